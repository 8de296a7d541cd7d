// Where a Redis-backed request's added latency goes, step by step: the two
// round trips each guard makes, timed one request at a time against a real
// Redis (started here), without HTTP or a handler. Variants are interleaved
// round by round; p50 of each round, then the median over rounds.
//   node bench/server-redis-steps.js [requests per round] [rounds]
// DF_SERVER=<path to a build's server/node.js> measures that build's store.
import { createRequire } from 'node:module';
import { createClient } from 'redis';
import { startRedis } from '../js-tests/server/services.js';
import { median, percentile } from './lib/stats.js';

const { redisStore } = await import(process.env.DF_SERVER ?? 'durafetch/server');
const require = createRequire(import.meta.url);
const perRound = Number(process.argv[2] ?? 1_000);
const rounds = Number(process.argv[3] ?? 8);

const ANSWER = new Uint8Array(Buffer.from('DF1 201 B\ncontent-type:application/json; charset=utf-8\n\n{"id":1,"item":"coffee"}'));
const FINGERPRINT = `-:${'a'.repeat(64)}`;

const redis = await startRedis();
try {
  const v6 = createClient({ url: redis.url });
  const v4 = createRequire(require.resolve('@node-idempotency/storage-adapter-redis'))('redis').createClient({ url: redis.url });
  for (const c of [v6, v4]) { c.on('error', () => {}); await c.connect(); }
  const stores = { v6: redisStore(v6), v4: redisStore(v4) };
  let seq = 0;
  const fresh = () => `steps-${process.pid}-${++seq}`;
  // What @node-idempotency does: SET NX PX, then SET PX (no owner check), through the client's set().
  const viaSet = (client) => async () => {
    const key = fresh();
    await client.set(key, FINGERPRINT, { NX: true, PX: 60_000 });
    await client.set(key, Buffer.from(ANSWER).toString(), { PX: 86_400_000 });
  };
  // The same two round trips as raw commands (SET NX GET: the claim also reads what was there).
  const raw = (client) => async () => {
    const key = fresh();
    await client.sendCommand(['SET', key, FINGERPRINT, 'NX', 'GET', 'PX', '60000']);
    await client.sendCommand(['SET', key, Buffer.from(ANSWER).toString('latin1'), 'PX', '86400000']);
  };
  const variants = {
    'peer: SET NX PX + SET PX (v4)': viaSet(v4),
    'raw: SET NX GET PX + SET PX (v4)': raw(v4),
    'raw: SET NX GET PX + SET PX (v6 sendCommand)': raw(v6),
    'raw: SET NX PX + SET PX (v6 client.set)': viaSet(v6),
    'redisStore claim + complete (v4)': async () => {
      const id = fresh();
      await stores.v4.claim(id, { fingerprint: FINGERPRINT, owner: `o${seq}`, now: 0, leaseMs: 60_000 });
      await stores.v4.complete(id, { owner: `o${seq}`, response: ANSWER, now: 0, ttlMs: 86_400_000 });
    },
    'redisStore claim + complete (v6)': async () => {
      const id = fresh();
      await stores.v6.claim(id, { fingerprint: FINGERPRINT, owner: `o${seq}`, now: 0, leaseMs: 60_000 });
      await stores.v6.complete(id, { owner: `o${seq}`, response: ANSWER, now: 0, ttlMs: 86_400_000 });
    },
  };
  const figures = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const names = Object.keys(variants);
  for (const name of names) for (let i = 0; i < 500; i++) await variants[name](); // warm up
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      const micros = [];
      for (let n = 0; n < perRound; n++) {
        const start = process.hrtime.bigint();
        await variants[name]();
        micros.push(Number(process.hrtime.bigint() - start) / 1000);
      }
      figures[name].push(percentile(micros, 50));
    }
  }
  console.log(`${rounds} rounds × ${perRound} sequential requests; µs for both round trips\n`);
  console.log('| variant | p50 µs (median over rounds) | (min) |\n| --- | ---: | ---: |');
  for (const name of names) console.log(`| ${name} | ${median(figures[name]).toFixed(0)} | ${Math.min(...figures[name]).toFixed(0)} |`);
  await v6.quit();
  await v4.quit();
} finally {
  await redis.stop();
}
