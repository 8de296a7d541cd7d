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
