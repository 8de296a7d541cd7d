// CPU time per request of each durafetch/server contender, measured in the
// server process itself (process.cpuUsage() before and after a batch), and
// Redis's own CPU per request (INFO cpu) for the contenders that use it.
// On a shared 2-core machine req/s moves with whatever else runs; the CPU a
// process spent on a fixed number of requests moves much less, so this is
// the figure to compare changes by. Each server is pinned to CPU 1, the
// load comes from this process (CPU 0 when run through taskset), fresh-key
// POSTs at 64 in flight; contenders interleaved round by round; the minimum
// and the median over rounds are printed (a round slowed by a neighbour is
// only ever slower).
//   node bench/server-cpu.js ['<regex of contender names>'] [requests per round] [rounds]
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { hasTaskset } from './lib/child.js';
import { interleave, median } from './lib/stats.js';
import { startRedis, startPostgres } from '../js-tests/server/services.js';
import { CONTENDERS, selectContenders } from './server-contenders.js';

const pattern = new RegExp(process.argv[2] ?? '.');
const PER_ROUND = Number(process.argv[3] ?? 4_000);
const ROUNDS = Number(process.argv[4] ?? 6);
const WIDTH = 64;
const BODY = JSON.stringify({ item: 'coffee', qty: 1 });
const picked = process.argv[2] ? selectContenders(pattern) : CONTENDERS;

const needsRedis = picked.some(([, c]) => /redis/.test(c.store ?? '') || /idempotency/.test(c.guard));
const needsPostgres = picked.some(([, c]) => c.store === 'postgres');
const redis = needsRedis ? await startRedis() : undefined;
const postgres = needsPostgres ? await startPostgres() : undefined;
const redisInfo = redis ? await redis.client() : undefined;

/** Redis's own CPU so far, in µs (INFO cpu: seconds with 6 decimals). */
async function redisCpu() {
  if (!redisInfo) return 0;
  const info = await redisInfo.info('cpu');
  const field = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)[1]);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function startTarget(name, config) {
  const script = fileURLToPath(new URL('./server-target.js', import.meta.url));
  const args = [script, JSON.stringify({ ...config, redisUrl: redis?.url, pgUrl: postgres?.url })];
  const [cmd, argv] = hasTaskset() ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const port = Number((await lines.next()).value);
  const agent = new http.Agent({ keepAlive: true, maxSockets: WIDTH });
  return {
    name,
    port,
    agent,
    usesRedis: /redis/.test(config.store ?? '') || /idempotency/.test(config.guard),
    /** [CPU µs, GC pause µs] so far. */
    async cpu() {
      child.stdin.write('cpu\n');
      const [, cpu, gc] = (await lines.next()).value.split(' ');
      return [Number(cpu), Number(gc)];
    },
    stop: () => { agent.destroy(); child.stdin.end(); return once(child, 'exit'); },
  };
}

let seq = 0;
function post(target) {
  seq += 1;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, path: '/orders', method: 'POST', agent: target.agent, headers: {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), 'idempotency-key': `cpu-${process.pid}-${seq}`,
    } }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`${target.name}: status ${res.statusCode}`)))); });
    req.on('error', reject);
    req.end(BODY);
  });
}

async function batch(target, total) {
  let next = 0;
  await Promise.all(Array.from({ length: WIDTH }, async () => { while (next < total) { next += 1; await post(target); } }));
}

// The bare handler each contender is compared with: the first one of its kind with no guard.
const baselineOf = (name) => {
  const kind = picked.find(([n]) => n === name)[1].kind;
  const bare = picked.find(([, c]) => c.kind === kind && (c.guard ?? 'none') === 'none');
  return bare && bare[0] !== name ? bare[0] : undefined;
};
const targets = [];
try {
  for (const [name, config] of picked) targets.push(await startTarget(name, config));
  const recorded = await interleave(targets, { rounds: ROUNDS, warmup: 1 }, async (t) => {
    const [[cpu0, gc0], redis0] = [await t.cpu(), t.usesRedis ? await redisCpu() : 0];
    const started = performance.now();
    await batch(t, PER_ROUND);
    const ms = performance.now() - started;
    const [[cpu1, gc1], redis1] = [await t.cpu(), t.usesRedis ? await redisCpu() : 0];
    return { server: (cpu1 - cpu0) / PER_ROUND, gc: (gc1 - gc0) / PER_ROUND, redis: (redis1 - redis0) / PER_ROUND, reqPerS: PER_ROUND / (ms / 1000) };
  });
  const rows = [];
  for (const t of targets) {
    const r = recorded.get(t.name);
    const server = r.map((x) => x.server);
    // Paired with the bare handler of the same kind in the same round: steadier than either figure alone.
    const base = recorded.get(baselineOf(t.name));
    const addedUs = base ? median(r.map((x, i) => x.server - base[i].server)) : undefined;
    const row = { name: t.name, addedUs, minUs: Math.min(...server), medianUs: median(server), gcUs: median(r.map((x) => x.gc)), reqPerS: median(r.map((x) => x.reqPerS)) };
    if (t.usesRedis) row.redisUs = Math.min(...r.map((x) => x.redis));
    rows.push(row);
  }
  console.log(`${PER_ROUND} fresh-key POSTs at ${WIDTH} in flight × ${ROUNDS} rounds, server pinned: ${hasTaskset()}\n`);
  console.log('| server | CPU µs / request (min) | (median) | added to bare (median of per-round differences) | of which GC pauses (median) | Redis CPU µs / request (min) | req/s (median) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.minUs.toFixed(1)} | ${r.medianUs.toFixed(1)} | ${r.addedUs === undefined ? '' : (r.addedUs >= 0 ? '+' : '') + r.addedUs.toFixed(1)} | ${r.gcUs.toFixed(1)} | ${r.redisUs === undefined ? '' : r.redisUs.toFixed(1)} | ${r.reqPerS.toFixed(0)} |`);
  }
} finally {
  await Promise.all(targets.map((t) => t.stop()));
  await redisInfo?.quit();
  await redis?.stop();
  await postgres?.stop();
}
