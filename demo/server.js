// durafetch demo server: an order API and a checkout API (checkout-api.js)
// made idempotent by durafetch/server (draft-ietf-httpapi-idempotency-key-header
// / Stripe style) plus chaos knobs that simulate the failures a retrying
// client has to survive, in front of every keyed endpoint alike.
// Keys live in durafetch/server's memoryStore, or in Redis with `redisUrl`
// (`--redis redis://127.0.0.1:6379`). Binds to loopback only.

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { idempotent, memoryStore, redisStore } from 'durafetch/server';
import { checkoutApi } from './checkout-api.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_BODY = 1024 * 1024;

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Content-Type, Idempotency-Key',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Expose-Headers': 'Retry-After, Idempotent-Replayed',
};

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const DEFAULT_CHAOS = Object.freeze({
  dropAfterProcessing: 0, error503: 0, rateLimit429: 0, retryAfterSeconds: 1, latencyMs: 0, offline: false,
  refuseShipping: false,
});

// Each knob: validator + human-readable accepted range for the 400 message.
const probability = { ok: (v) => typeof v === 'number' && v >= 0 && v <= 1, range: 'a number from 0 to 1' };
const KNOBS = {
  dropAfterProcessing: probability,
  error503: probability,
  rateLimit429: probability,
  retryAfterSeconds: { ok: (v) => Number.isInteger(v) && v >= 0 && v <= 3600, range: 'an integer from 0 to 3600' },
  latencyMs: { ok: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 60000, range: 'a number from 0 to 60000' },
  offline: { ok: (v) => typeof v === 'boolean', range: 'true or false' },
  // The checkout's shipments endpoint says no (422): the run fails, its hold is released.
  refuseShipping: { ok: (v) => typeof v === 'boolean', range: 'true or false' },
};

/** Returns an error message, or null if `patch` is a valid chaos update. */
export function validateChaos(patch) {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return 'chaos body must be a JSON object';
  for (const [name, value] of Object.entries(patch)) {
    const knob = KNOBS[name];
    if (!knob) return `unknown chaos knob "${name}"; known knobs: ${Object.keys(KNOBS).join(', ')}`;
    if (!knob.ok(value)) return `chaos knob "${name}" must be ${knob.range}, got ${JSON.stringify(value)}`;
  }
  return null;
}

const freshCounters = () => ({
  effectsApplied: 0, duplicatesSuppressed: 0, conflicts409: 0, mismatches422: 0,
  dropped: 0, errors503: 0, rateLimited429: 0, unkeyedEffects: 0,
});

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function send(res, status, body, headers = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(payload);
}

/** The stored-and-replayed answer travels as a fetch Response; this writes one out. */
async function sendResponse(res, response) {
  const headers = { ...CORS };
  for (const [name, value] of response.headers) headers[name] = value;
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

async function openStore(redisUrl) {
  if (!redisUrl) return { store: memoryStore(), close: async () => {} };
  const { createClient } = await import('redis'); // only when asked for: a dev dependency
  const client = createClient({ url: redisUrl });
  await client.connect();
  return { store: redisStore(client), close: () => client.quit() };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new HttpError(413, 'body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw, { allowEmpty = false } = {}) {
  if (allowEmpty && raw.trim() === '') return {};
  try { return JSON.parse(raw); } catch { throw new HttpError(400, 'body must be valid JSON'); }
}

export async function startDemoServer({
  port = 0, host = '127.0.0.1', staticRoots = {}, retentionMs = 24 * 3600 * 1000,
  now = () => Date.now(), random = Math.random, redisUrl,
} = {}) {
  // The demo deliberately has no auth and destructive endpoints: loopback only.
  if (!LOOPBACK.has(host)) throw new Error(`demo server only binds to loopback, refusing host "${host}"`);

  const keys = await openStore(redisUrl);
  const state = {
    chaos: { ...DEFAULT_CHAOS },
    counters: freshCounters(),
    orders: [],
    effectsByClientOrder: new Map(), // clientOrderId -> times the effect was applied
    orderSeq: 0,
    store: keys.store,
    // POST /reset starts a new generation: keys of the old one are never seen again.
    generation: 0,
  };
  const timers = new Set();
  const sleep = (ms) => (ms > 0 ? new Promise((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  }) : Promise.resolve());
  // Only draw a random number when the knob is on, so scripted sequences in tests stay aligned.
  const roll = (p) => p > 0 && random() < p;

  // Longest prefix first so '/pkg/' wins over '/'.
  const roots = Object.entries(staticRoots)
    .map(([prefix, dir]) => [prefix, path.resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);

  function stats() {
    let duplicateEffects = 0;
    for (const n of state.effectsByClientOrder.values()) duplicateEffects += Math.max(0, n - 1);
    const live = typeof state.store.size === 'function' ? state.store.size(now()) : null;
    // Orders placed by the service worker: what pages left queued, delivered with or without a page open.
    const workerOrders = state.orders.filter((o) => o.via === 'service-worker').slice(-20)
      .map(({ id, key, clientOrderId, at }) => ({ orderId: id, key, clientOrderId, at }));
    return { ...state.counters, duplicateEffects, orders: state.orders.length, keys: live, checkout: checkout.stats(), workerOrders };
  }

  function applyEffect(key, order, via) {
    const c = state.counters;
    c.effectsApplied++;
    if (key === null) c.unkeyedEffects++;
    const id = `ord_${++state.orderSeq}`;
    state.orders.push({ id, key, item: order.item, qty: order.qty, clientOrderId: order.clientOrderId, at: now(), via });
    if (order.clientOrderId !== undefined) {
      const cid = String(order.clientOrderId);
      state.effectsByClientOrder.set(cid, (state.effectsByClientOrder.get(cid) ?? 0) + 1);
    }
    return { orderId: id, key, item: order.item, qty: order.qty };
  }

  const json = (status, body) => Response.json(body, { status, headers: { 'Cache-Control': 'no-store' } });

  // The order handler, as plain as an API without keys; durafetch/server
  // makes it idempotent: one run per key, the answer stored and replayed,
  // 409 while the first request runs, 422 for a key reused with another body.
  async function placeOrder(request) {
    let body;
    try { body = JSON.parse(await request.text()); } catch { return json(400, { error: 'body must be valid JSON' }); }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return json(400, { error: 'order must be a JSON object' });
    if (typeof body.item !== 'string' || body.item === '') return json(400, { error: 'field "item" must be a non-empty string' });
    const qty = body.qty ?? 1;
    if (!Number.isInteger(qty) || qty < 1) return json(400, { error: 'field "qty" must be a positive integer' });
    const key = request.headers.get('idempotency-key');
    // The demo's service worker marks its resends (demo/src/sw.js).
    const via = request.headers.get('x-delivered-by') === 'service-worker' ? 'service-worker' : 'page';
    const order = applyEffect(key, { item: body.item, qty, clientOrderId: body.clientOrderId }, via);
    await sleep(state.chaos.latencyMs); // the key stays claimed meanwhile: concurrent resends get 409
    return json(201, order);
  }
  const idempotency = { store: state.store, ttlMs: retentionMs, now, scope: () => `demo-${state.generation}` };
  const orders = idempotent(placeOrder, idempotency);
  const checkout = checkoutApi({
    idempotency, linger: () => sleep(state.chaos.latencyMs), refuseShipping: () => state.chaos.refuseShipping,
  });

  /** A keyed endpoint (`handler`, made idempotent) behind the chaos knobs; `counters()` tallies what they did. */
  async function serveKeyed(req, res, pathname, handler, counters) {
    // Offline: the connection dies before anything happens, nothing is applied.
    if (state.chaos.offline) { req.socket.destroy(); return; }
    const raw = await readBody(req);
    const chaos = state.chaos;
    // Transient failures happen BEFORE processing (in front of the idempotency layer, as a
    // load balancer or rate limiter would), so they are always safe to retry.
    if (roll(chaos.error503)) { counters().errors503++; return send(res, 503, { error: 'service unavailable (chaos)' }); }
    if (roll(chaos.rateLimit429)) {
      counters().rateLimited429++;
      return send(res, 429, { error: 'rate limited (chaos)' }, { 'Retry-After': String(chaos.retryAfterSeconds) });
    }

    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const body = raw === '' && req.method === 'DELETE' ? undefined : raw;
    const response = await handler(new Request(`http://demo.local${pathname}`, { method: req.method, headers, body }));
    const c = counters();
    if (response.status === 409) c.conflicts409++;
    // The key layer's 422 (a key reused with another body) is problem+json; a handler's own 422 is not.
    if (response.status === 422 && response.headers.get('content-type') === 'application/problem+json') c.mismatches422++;
    if (response.headers.get('idempotent-replayed') === 'true') c.duplicatesSuppressed++;

    // "Succeeded but looked failed": effect applied and stored, but the client never hears back.
    if (response.ok && roll(chaos.dropAfterProcessing)) { c.dropped++; req.socket.destroy(); return; }
    await sendResponse(res, response);
  }

  async function serveStatic(req, res, pathname) {
    for (const [prefix, dir] of roots) {
      if (!pathname.startsWith(prefix)) continue;
      let rel;
      try { rel = decodeURIComponent(pathname.slice(prefix.length)); } catch { throw new HttpError(400, 'bad URL encoding'); }
      // Reject traversal outright rather than trying to normalise it away.
      if (rel.split(/[\\/]/).includes('..') || rel.includes('\0')) throw new HttpError(403, 'path traversal rejected');
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(dir, rel);
      if (file !== dir && !file.startsWith(dir + path.sep)) throw new HttpError(403, 'path traversal rejected');
      try {
        if (!(await stat(file)).isFile()) continue;
        const data = await readFile(file);
        const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
        // Service-Worker-Allowed: the worker bundle (/app/sw.js) may control the whole demo ('/').
        res.writeHead(200, {
          ...CORS, 'Content-Type': type, 'Content-Length': data.length, 'Cache-Control': 'no-cache', 'Service-Worker-Allowed': '/',
        });
        res.end(req.method === 'HEAD' ? undefined : data);
        return true;
      } catch { continue; } // missing file (or missing root dir) -> try next root, then 404
    }
    return false;
  }

  async function route(req, res) {
    // Raw path on purpose: new URL() would silently normalise '/../' away before the traversal check.
    const pathname = req.url.split(/[?#]/, 1)[0] || '/';
    const m = req.method;
    if (m === 'OPTIONS') { res.writeHead(204, { ...CORS, 'Access-Control-Max-Age': '600' }); return res.end(); }
    if (pathname === '/orders' && m === 'POST') return serveKeyed(req, res, pathname, orders, () => state.counters);
    const step = checkout.route(m, pathname);
    if (step) return serveKeyed(req, res, pathname, step, () => checkout.counters);
    if (pathname === '/stats' && m === 'GET') return send(res, 200, stats());
    if (pathname === '/chaos' && m === 'GET') return send(res, 200, state.chaos);
    if (pathname === '/chaos' && m === 'PUT') {
      const patch = parseJson(await readBody(req));
      const problem = validateChaos(patch);
      if (problem) throw new HttpError(400, problem);
      state.chaos = { ...state.chaos, ...patch }; // replace, so in-flight requests keep the knobs they started with
      return send(res, 200, state.chaos);
    }
    if (pathname === '/reset' && m === 'POST') {
      const body = parseJson(await readBody(req), { allowEmpty: true });
      state.counters = freshCounters();
      state.orders = [];
      state.effectsByClientOrder.clear();
      checkout.reset();
      state.generation++;
      state.store.clear?.(); // the memory store frees what the old generation held
      if (body && body.chaos === true) state.chaos = { ...DEFAULT_CHAOS };
      return send(res, 200, { ok: true, chaos: state.chaos });
    }
    if ((m === 'GET' || m === 'HEAD') && (await serveStatic(req, res, pathname))) return;
    throw new HttpError(404, `no route for ${m} ${pathname}`);
  }

  const server = http.createServer((req, res) => {
    // One request per connection, deliberately: Chromium silently resends a request that
    // fails on a reused keep-alive socket (same headers, same key), which would hide a
    // chaos drop from the page and give the no-key loop a duplicate its code never sent.
    res.setHeader('Connection', 'close');
    route(req, res).catch((err) => {
      if (res.headersSent || req.socket.destroyed) return;
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: status === 500 ? 'internal error' : err.message });
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}/`,
    port: actualPort,
    state,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // don't wait for keep-alive sockets held by fetch
      });
      await keys.close();
    },
  };
}

// Run directly: node demo/server.js [--port N] [--redis redis://127.0.0.1:6379]
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${i > 0 ? process.argv[i + 1] : process.env.PORT}`);
    process.exit(2);
  }
  const r = process.argv.indexOf('--redis');
  const srv = await startDemoServer({
    port, host: '127.0.0.1', redisUrl: r > 0 ? process.argv[r + 1] : process.env.REDIS_URL,
    staticRoots: { '/': path.join(here, 'public'), '/pkg/': path.join(here, '..', 'pkg') },
  });
  console.log(`durafetch demo: ${srv.url}`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
