// The conformance suite (fixtures/conformance.js) against the stores Node
// runs: memory, Redis (a real redis-server) and PostgreSQL (a real cluster),
// all through the installed package, as a user imports it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotent, memoryStore, redisStore, postgresStore } from 'durafetch/server';
import { CASES, runConformance } from './fixtures/conformance.js';
import { startRedis, startPostgres } from './services.js';

let redis;
let postgres;
before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
});
after(async () => {
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

async function conformance(makeStore) {
  const store = await makeStore();
  const results = await runConformance({ idempotent, store });
  assert.equal(results.length, CASES.length);
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], failed.map((f) => `${f.name}: ${f.error}`).join('\n\n'));
}

test('conformance: memoryStore', () => conformance(() => memoryStore()));

test('conformance: redisStore (node-redis, a real redis-server)', () => conformance(async () => redisStore(await redis.client())));

test('conformance: postgresStore (pg Pool, a real PostgreSQL)', () => conformance(async () => {
  const store = postgresStore(postgres.pool({ max: 10 }));
  await Promise.all([store.migrate(), store.migrate()]); // concurrent migrations are serialised
  return store;
}));
