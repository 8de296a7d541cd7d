// Wiring durafetch/server as a new user would, with the mistakes the issue
// saw go wrong silently: each one now either works or fails at start-up or
// at the first request with an IdempotencyError that names the fix, never a
// stream of 503s that looks like an outage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { idempotent, toNodeListener, expressIdempotency, redisStore, postgresStore, IdempotencyError } from 'durafetch/server';
import { startRedis, startPostgres } from './services.js';

let redis;
let postgres;
const closers = [];
before(async () => { [redis, postgres] = await Promise.all([startRedis(), startPostgres()]); });
after(async () => {
  for (const close of closers) await close();
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

const order = (handler, key, body = '{"item":"tea"}') => handler(new Request('http://api.test/orders', {
  method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body,
}));
const created = async (request) => Response.json({ ok: true, got: await request.json() }, { status: 201 });

async function listen(listener) {
  const server = http.createServer(listener);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${server.address().port}`;
}

test('a node-redis client never connected: the first request throws IdempotencyError naming client.connect()', async () => {
  const handler = idempotent(created, { store: redisStore(createClient({ url: redis.url })) });
  const error = await order(handler, 'unconnected').then(() => undefined, (e) => e);
  assert.ok(IdempotencyError.is(error), String(error));
  assert.equal(error.kind, 'invalid-store');
  assert.match(error.message, /await client\.connect\(\)/);
  // Behind toNodeListener: a 500 and the error handed to onError, not a 503 per request.
  const heard = [];
  const base = await listen(toNodeListener(handler, { onError: (e) => heard.push(e) }));
  const r = await fetch(`${base}/orders`, { method: 'POST', headers: { 'idempotency-key': 'unconnected-2' }, body: '{}' });
  assert.equal(r.status, 500);
  assert.equal(heard[0]?.kind, 'invalid-store');
});

test('an ioredis client passed as it is works (single server)', async () => {
  const client = new Redis(redis.url);
  closers.push(() => client.quit());
  const store = redisStore(client);
  assert.equal(store.client, 'ioredis');
  const handler = idempotent(created, { store });
  assert.equal((await order(handler, 'io-1')).status, 201);
  const again = await order(handler, 'io-1');
  assert.deepEqual([again.status, again.headers.get('idempotent-replayed')], [201, 'true']);
  const closed = new Redis(redis.url);
  await closed.quit();
  const error = await order(idempotent(created, { store: redisStore(closed) }), 'io-2').then(() => undefined, (e) => e);
  assert.equal(error?.kind, 'invalid-store', 'a client the app closed is a setup error');
});

test('something that is not a Redis client is refused at start-up, naming what is accepted', () => {
  for (const wrong of [undefined, {}, { query() {} }, 'redis://127.0.0.1']) {
    assert.throws(() => redisStore(wrong), (e) => IdempotencyError.is(e) && e.kind === 'invalid-store' && /createCluster/.test(e.message) && /ioredis/.test(e.message));
  }
  assert.throws(() => redisStore({ sendCommand() {}, isOpen: true }, { replicas: -1 }), (e) => e.kind === 'invalid-option' && /replicas/.test(e.option));
  assert.throws(() => postgresStore({}), (e) => e.kind === 'invalid-store' && /pg Pool/.test(e.message));
});

test('PostgreSQL without migrate(): the first request throws IdempotencyError naming store.migrate()', async () => {
  const store = postgresStore(postgres.pool(), { table: 'never_migrated' });
  const error = await order(idempotent(created, { store }), 'pg-1').then(() => undefined, (e) => e);
  assert.equal(error?.kind, 'invalid-store');
  assert.match(error.message, /never_migrated does not exist.*migrate\(\)/);
  await store.migrate();
  assert.equal((await order(idempotent(created, { store }), 'pg-1')).status, 201, 'after migrate(), it works');
});

test('Express: expressIdempotency before or after express.json() both work; the factory mounted bare says so', async () => {
  const runs = [];
  const app = express();
  const before = express.Router();
  before.use(expressIdempotency(), express.json());
  before.post('/orders', (req, res) => { runs.push(req.body); res.status(201).json({ got: req.body }); });
  const afterwards = express.Router();
  afterwards.use(express.json(), expressIdempotency());
  afterwards.post('/orders', (req, res) => { runs.push(req.body); res.status(201).json({ got: req.body }); });
  const bare = express.Router();
  bare.use(expressIdempotency);
  bare.post('/orders', (req, res) => res.status(201).end());
  app.use('/before', before);
  app.use('/after', afterwards);
  app.use('/bare', bare);
  app.use((error, req, res, next) => res.status(500).json({ kind: error.kind, message: error.message })); // eslint-disable-line no-unused-vars
  const base = await listen(app);
  const post = (path, key, body) => fetch(`${base}${path}/orders`, { method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body });
  for (const path of ['/before', '/after']) {
    const first = await post(path, `order${path}`, '{ "item": "tea" }');
    assert.deepEqual([first.status, await first.json()], [201, { got: { item: 'tea' } }], `${path}: the handler gets the parsed body`);
    const again = await post(path, `order${path}`, '{ "item": "tea" }');
    assert.deepEqual([again.headers.get('idempotent-replayed'), await again.json()], ['true', { got: { item: 'tea' } }], `${path}: replayed`);
    const other = await post(path, `order${path}`, '{ "item": "coffee" }');
    assert.equal(other.status, 422, `${path}: another body under the key`);
    await other.text();
  }
  assert.equal(runs.length, 2);
  const wrong = await post('/bare', 'x', '{}');
  assert.equal(wrong.status, 500);
  assert.match((await wrong.json()).message, /app\.use\(expressIdempotency\(\{ store \}\)\)/);
});
