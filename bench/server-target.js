// One server under test for server.js, in its own process (pinned to CPU 1
// when taskset exists): the same order handler bare, behind durafetch/server
// (memory, Redis, PostgreSQL), or behind a peer on Redis: express-idempotency
// with its adapter, or @node-idempotency/core with its Redis adapter (it has
// no Express middleware: the few lines below call onRequest before the
// handler and onResponse before the answer is sent, as durafetch/server does).
// Prints its port; answers each stdin line with its CPU time; exits when stdin closes.
//   node server-target.js '{"kind":"express"|"fetch","guard":"none"|"durafetch"|"express-idempotency"|"node-idempotency",
//                           "store":"memory"|"redis"|"redis-v4"|"postgres","redisUrl","pgUrl"}'
import http from 'node:http';
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import express from 'express';
import { createClient } from 'redis';
import pg from 'pg';
import { idempotent, toNodeListener, expressIdempotency, memoryStore, redisStore, postgresStore } from 'durafetch/server';

const require = createRequire(import.meta.url);
const config = JSON.parse(process.argv[2]);

async function durafetchStore() {
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

let orders = 0;
const answer = (body) => ({ id: ++orders, item: body?.item ?? null });

let listener;
if (config.kind === 'express') {
  const app = express();
  app.use(express.json());
  if (config.guard === 'durafetch') {
    app.use(expressIdempotency({ store: await durafetchStore() }));
    app.post('/orders', (req, res) => res.status(201).json(answer(req.body)));
  } else if (config.guard === 'express-idempotency') {
    const { idempotency, getSharedIdempotencyService } = require('express-idempotency');
    const RedisAdapter = require('express-idempotency-redis-adapter').default;
    const dataAdapter = new RedisAdapter({ connectionConfig: { url: config.redisUrl } });
    await dataAdapter.connect();
    app.post('/orders', idempotency({ dataAdapter }), (req, res) => {
      if (getSharedIdempotencyService().isHit(req)) return;
      res.status(201).json(answer(req.body));
    });
  } else if (config.guard === 'node-idempotency') {
    const { Idempotency } = require('@node-idempotency/core');
    const { RedisStorageAdapter } = require('@node-idempotency/storage-adapter-redis');
    const storage = new RedisStorageAdapter({ url: config.redisUrl });
    await storage.connect();
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
  listener = app;
} else {
  const handler = async (request) => Response.json(answer(await request.json()), { status: 201 });
  listener = toNodeListener(config.guard === 'durafetch' ? idempotent(handler, { store: await durafetchStore() }) : handler);
}

const server = http.createServer(listener);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
// A line on stdin asks for this process's CPU time so far (bench/server-cpu.js):
// answered as `cpu <user+system µs> <GC pause µs>`; stdin closing ends the process.
let gcMicros = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMicros += e.duration * 1000; }).observe({ entryTypes: ['gc'] });
process.stdin.on('data', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`cpu ${user + system} ${gcMicros.toFixed(0)}\n`);
});
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(0), 10 * 60_000).unref(); // never outlive the benchmark
