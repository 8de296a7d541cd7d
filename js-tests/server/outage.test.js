// The store goes down: requests get 503 problem+json with Retry-After and
// the handler never runs unclaimed (fail closed); when it comes back, the
// same keys work, including after Redis lost its scripts (NOSCRIPT) and
// after a claim that landed late was given back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotent, redisStore, postgresStore } from 'durafetch/server';
import { startRedis, startPostgres } from './services.js';

let redis;
let postgres;
before(async () => { [redis, postgres] = await Promise.all([startRedis(), startPostgres()]); });
after(async () => { await Promise.all([redis?.stop(), postgres?.stop()]); });

function orders(store) {
  let runs = 0;
  const handler = idempotent(async () => { runs += 1; return new Response(`run ${runs}`, { status: 201 }); },
    { store, storeTimeoutMs: 300 });
  const send = (key) => handler(new Request('http://api.test/orders', { method: 'POST', headers: { 'idempotency-key': key }, body: 'x' }));
  return { send, runs: () => runs };
}

async function expect503(response) {
  assert.equal(response.status, 503);
  assert.equal(response.headers.get('retry-after'), '1');
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  assert.equal((await response.json()).status, 503);
}

async function eventually(send, status, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await send();
    if (r.status === status || Date.now() > end) return r;
    await r.text();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('Redis down: 503 and no run; restarted (scripts lost): the same key runs once', { timeout: 60_000 }, async () => {
  const client = await redis.client();
  const o = orders(redisStore(client));
  assert.equal((await o.send('before')).status, 201);
  await redis.kill();
  await expect503(await o.send('during'));
  await expect503(await o.send('during'));
  assert.equal(o.runs(), 1, 'nothing ran while Redis was down');
  await redis.start();
  // node-redis reconnects by itself; its queued claims land late and are given back.
  const r = await eventually(() => o.send('during'), 201);
  assert.equal(r.status, 201, 'the key the outage refused runs once Redis is back');
  assert.equal(await r.text(), 'run 2');
  assert.equal((await o.send('during')).headers.get('idempotent-replayed'), 'true');
  assert.equal(o.runs(), 2);
});

test('PostgreSQL down: 503 and no run; restarted: the same key runs once', { timeout: 60_000 }, async () => {
  const store = postgresStore(postgres.pool({ connectionTimeoutMillis: 200 }));
  await store.migrate();
  const o = orders(store);
  assert.equal((await o.send('before')).status, 201);
  await postgres.kill();
  await expect503(await o.send('during'));
  assert.equal(o.runs(), 1, 'nothing ran while PostgreSQL was down');
  await postgres.start();
  const r = await eventually(() => o.send('during'), 201);
  assert.equal(await r.text(), 'run 2');
  assert.equal((await o.send('during')).headers.get('idempotent-replayed'), 'true');
  assert.equal((await o.send('before')).headers.get('idempotent-replayed'), 'true', 'what was stored before the outage is still there');
});
