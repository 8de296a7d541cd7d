// The conformance suite (fixtures/conformance.js) against the stores Node
// runs: memory, Redis (a real redis-server) and PostgreSQL (a real cluster),
// all through the installed package, as a user imports it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotent, memoryStore, redisStore, postgresStore } from 'durafetch/server';
import { CASES, runConformance } from './fixtures/conformance.js';
import { startRedis, startPostgres } from './services.js';
import { redisStoreClock, postgresStoreClock } from './store-clock.js';

let redis;
let postgres;
before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
});
after(async () => {
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

async function conformance(makeStore) {
  const { store, storeClock } = await makeStore();
  const results = await runConformance({ idempotent, store, storeClock });
  assert.equal(results.length, CASES.length);
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], failed.map((f) => `${f.name}: ${f.error}`).join('\n\n'));
}

test('conformance: memoryStore', () => conformance(() => ({ store: memoryStore() })));

test('conformance: redisStore (node-redis, a real redis-server, its own clock)', () => conformance(async () => {
  const client = await redis.client();
  return { store: redisStore(client), storeClock: redisStoreClock(client) };
}));

test('conformance: postgresStore (pg Pool, a real PostgreSQL, its own clock)', () => conformance(async () => {
  const pool = postgres.pool({ max: 10 });
  const store = postgresStore(pool);
  await Promise.all([store.migrate(), store.migrate()]); // concurrent migrations are serialised
  return { store, storeClock: postgresStoreClock(pool) };
}));

// Redis before 7.0 refuses SET with both NX and GET ("ERR syntax error"):
// redisStore then claims through a Lua script. This Redis is 7, so the
// client below answers that one command as Redis 6.2 does and passes every
// other command to the real server: the store's fallback is what is tested.
test('conformance: redisStore on a Redis that refuses SET NX GET, as Redis 6.2 does (the claim runs as a script)', async () => {
  const real = await redis.client();
  let refused = 0;
  const likeRedis62 = {
    sendCommand(args) {
      if (args[0] === 'SET' && args.includes('NX') && args.includes('GET')) {
        refused += 1;
        return Promise.reject(new Error('ERR syntax error'));
      }
      return real.sendCommand(args);
    },
  };
  const store = redisStore(likeRedis62);
  assert.equal(store.client, 'custom');
  await conformance(() => ({ store, storeClock: redisStoreClock(real) }));
  assert.equal(refused, 1, 'refused once, then never asked again');
});

// A record in the previous format of redisStore (a hash { until, owner, fp,
// resp (base64) }), as a process of the older version still running writes
// it: read as it is, never run again.
test('redisStore reads a record of its previous format (a hash): its answer is replayed, an in-flight one is 409', async () => {
  const client = await redis.client();
  let runs = 0;
  const handler = idempotent(async () => { runs += 1; return Response.json({ id: runs }, { status: 201 }); }, { store: redisStore(client) });
  const order = (key) => handler(new Request('http://api.test/orders', {
    method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: '{"item":"tea"}',
  }));
  // A first order in today's format gives the fingerprint and the answer's bytes for the same request.
  assert.equal((await order('format-now')).status, 201);
  const record = await client.get('durafetch:idempotency:format-now');
  assert.equal(record[0], 'D', 'a completed record');
  const fingerprint = record.slice(1, record.indexOf('\n'));
  const answer = Buffer.from(record.slice(record.indexOf('\n') + 1), 'latin1');
  const until = String(Date.now() + 60_000);
  await client.hSet('durafetch:idempotency:format-before-done', { until, owner: 'old', fp: fingerprint, resp: answer.toString('base64') });
  await client.pExpire('durafetch:idempotency:format-before-done', 60_000);
  await client.hSet('durafetch:idempotency:format-before-running', { until, owner: 'old', fp: fingerprint });
  await client.pExpire('durafetch:idempotency:format-before-running', 60_000);

  const replay = await order('format-before-done');
  assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed'), await replay.json()], [201, 'true', { id: 1 }]);
  assert.equal((await order('format-before-running')).status, 409);
  assert.equal(runs, 1, 'neither old record ran the handler');
});
