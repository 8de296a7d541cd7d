// The server under test, as a Node listener (req, res): the same order
// handler bare, behind durafetch/server (memory, Redis, PostgreSQL), or
// behind a peer on Redis: express-idempotency with its adapter, or
// @node-idempotency/core with its Redis adapter (it has no Express
// middleware: the few lines below call onRequest before the handler and
// onResponse before the answer is sent, as durafetch/server does).
// server-target.js serves it over HTTP; server-inprocess.js drives it directly.
//   config: { kind: 'express'|'fetch', guard: 'none'|'durafetch'|'express-idempotency'|'node-idempotency',
//             store: 'memory'|'redis'|'redis-v4'|'postgres', redisUrl, pgUrl }
// DF_SERVER=<path to a build's server/node.js> measures that build instead of
// the installed package (server-inprocess.js sets it per build it compares).
import { createRequire } from 'node:module';
import express from 'express';
import { createClient } from 'redis';
import pg from 'pg';
const { idempotent, toNodeListener, expressIdempotency, memoryStore, redisStore, postgresStore } = await import(process.env.DF_SERVER ?? 'durafetch/server');

const require = createRequire(import.meta.url);

async function durafetchStore(config) {
  if (config.store === 'redis-v4') {
    // node-redis v4's client (@redis/client 1.x), the one express-idempotency's adapter bundles.
    const adapterRequire = createRequire(require.resolve('express-idempotency-redis-adapter'));
    const client = adapterRequire('@redis/client').createClient({ url: config.redisUrl });
    client.on('error', () => {});
    await client.connect();
    return redisStore(client);
  }
  if (config.store === 'redis') {
    const client = createClient({ url: config.redisUrl });
    client.on('error', () => {});
    await client.connect();
    return redisStore(client);
  }
  if (config.store === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.pgUrl, max: 16 });
    pool.on('error', () => {}); // the bench stops PostgreSQL while this process exits
    const store = postgresStore(pool);
    await store.migrate();
    return store;
  }
  return memoryStore();
}

function expressApp(config, answer, store) {
  const app = express();
  app.use(express.json());
  if (config.guard === 'durafetch') {
    app.use(expressIdempotency({ store }));
    app.post('/orders', (req, res) => res.status(201).json(answer(req.body)));
  } else if (config.guard === 'express-idempotency') {
    const { idempotency, getSharedIdempotencyService } = require('express-idempotency');
    const RedisAdapter = require('express-idempotency-redis-adapter').default;
    const dataAdapter = new RedisAdapter({ connectionConfig: { url: config.redisUrl } });
    app.ready = dataAdapter.connect();
    app.post('/orders', idempotency({ dataAdapter }), (req, res) => {
      if (getSharedIdempotencyService().isHit(req)) return;
      res.status(201).json(answer(req.body));
    });
  } else if (config.guard === 'node-idempotency') {
    const { Idempotency } = require('@node-idempotency/core');
    const { RedisStorageAdapter } = require('@node-idempotency/storage-adapter-redis');
    const storage = new RedisStorageAdapter({ url: config.redisUrl });
    app.ready = storage.connect();
    const idempotency = new Idempotency(storage, { cacheTTLMS: 24 * 60 * 60 * 1000 });
    app.post('/orders', async (req, res) => {
      const params = { headers: req.headers, path: req.path, body: req.body, method: req.method };
      try {
        const stored = await idempotency.onRequest(params);
        if (stored) return res.status(stored.additional?.status ?? 200).json(stored.body);
      } catch (error) {
        return res.status(error.code === 'REQUEST_IN_PROGRESS' ? 409 : 422).json({ error: error.message });
      }
      const body = answer(req.body);
      await idempotency.onResponse(params, { body, additional: { status: 201 } });
      res.status(201).json(body);
    });
  } else {
    app.post('/orders', (req, res) => res.status(201).json(answer(req.body)));
  }
  return app;
}

/** The Node listener (req, res) of one contender (bench/server-contenders.js), its stores connected. */
export async function listenerOf(config) {
  let orders = 0;
  const answer = (body) => ({ id: ++orders, item: body?.item ?? null });
  const store = config.guard === 'durafetch' ? await durafetchStore(config) : undefined;
  if (config.kind === 'express') {
    const app = expressApp(config, answer, store);
    await app.ready;
    return app;
  }
  const handler = async (request) => Response.json(answer(await request.json()), { status: 201 });
  return toNodeListener(store ? idempotent(handler, { store }) : handler);
}
