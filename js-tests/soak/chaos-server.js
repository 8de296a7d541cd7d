// The soak's server on 127.0.0.1: POST /orders deduplicates by Idempotency-Key
// (first request applies, later ones replay the stored answer, a concurrent
// one gets 409) and misbehaves from a seeded random: 503 and 429 before
// processing, dropped responses after it. Every application is counted per
// key AND per clientOrderId, so a duplicate effect cannot hide behind a
// second key. It also serves the installed package (/pkg/) and the soak page.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** mulberry32: a small seeded generator in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function serveStatic(statics, path, res) {
  for (const [prefix, dir] of Object.entries(statics)) {
    if (!path.startsWith(prefix)) continue;
    const rel = normalize(decodeURIComponent(path.slice(prefix.length)));
    if (rel.startsWith('..')) return false;
    try {
      const body = await readFile(join(dir, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * chaos: { drop, error503, rateLimit429, maxLatencyMs } as probabilities per
 * request (503/429 exclusive, drawn first; drop drawn on every processed answer).
 */
export async function startChaosServer({ seed, statics = {}, chaos }) {
  const random = seededRandom(seed);
  const answers = new Map(); // key -> { body, status, fingerprint }
  const processing = new Set(); // keys being applied right now
  const effectsByKey = new Map(); // key -> applications
  const effectsByOrder = new Map(); // clientOrderId -> applications
  const keysByOrder = new Map(); // clientOrderId -> Set of keys seen
  const inFlight = new Map(); // key -> requests open now
  const overlaps = []; // { key, at, since }: a key arrived while it was in flight
  const log = new Map(); // key -> [{ at, what }]: each request's fate, for diagnosis
  const note = (key, what) => (log.get(key) ?? log.set(key, []).get(key)).push({ at: Date.now(), what });
  const counts = { requests: 0, drops: 0, s503: 0, s429: 0, s409: 0, s422: 0, replays: 0, applied: 0 };
  const sockets = new Set();

  function track(key, res) {
    const open = inFlight.get(key) ?? [];
    if (open.length > 0) overlaps.push({ key, at: Date.now(), since: Math.min(...open) });
    const at = Date.now();
    open.push(at);
    inFlight.set(key, open);
    res.on('close', () => open.splice(open.indexOf(at), 1));
  }

  function answer(res, status, body) {
    if (random() < chaos.drop) {
      counts.drops++;
      note(res.soakKey, 'drop');
      res.socket.destroy(); // processed, then the answer is lost
      return;
    }
    note(res.soakKey, status);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  }

  async function order(req, res, raw) {
    counts.requests++;
    handle.lastRequestAt = Date.now();
    const key = req.headers['idempotency-key'];
    let clientOrderId;
    try { ({ clientOrderId } = JSON.parse(raw)); } catch { /* checked below */ }
    if (!key || clientOrderId === undefined) return void res.writeHead(400).end('key and clientOrderId required');
    const keys = keysByOrder.get(clientOrderId) ?? new Set();
    keysByOrder.set(clientOrderId, keys.add(key));
    track(key, res);
    res.soakKey = key;
    const roll = random();
    if (roll < chaos.error503) return void (counts.s503++, note(key, 503), res.writeHead(503).end());
    if (roll < chaos.error503 + chaos.rateLimit429) {
      counts.s429++;
      note(key, 429);
      return void res.writeHead(429, { 'retry-after': '1' }).end();
    }
    if (processing.has(key)) return void (counts.s409++, note(key, 409), res.writeHead(409).end());
    const stored = answers.get(key);
    if (stored) {
      if (stored.fingerprint !== raw) return void (counts.s422++, note(key, 422), res.writeHead(422).end('payload mismatch'));
      counts.replays++;
      note(key, 'replay');
      return answer(res, stored.status, stored.body);
    }
    processing.add(key);
    // A processing window, so a concurrent request with the key sees 409.
    await new Promise((r) => setTimeout(r, Math.floor(random() * chaos.maxLatencyMs)));
    effectsByKey.set(key, (effectsByKey.get(key) ?? 0) + 1);
    effectsByOrder.set(clientOrderId, (effectsByOrder.get(clientOrderId) ?? 0) + 1);
    counts.applied++;
    const body = JSON.stringify({ orderId: counts.applied, clientOrderId, key });
    answers.set(key, { status: 201, body, fingerprint: raw });
    processing.delete(key);
    answer(res, 201, body);
  }

  const server = http.createServer(async (req, res) => {
    // No keep-alive: Chromium silently resends a request that fails on a
    // reused socket, which would hide the drops.
    res.setHeader('connection', 'close');
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && await serveStatic(statics, path, res)) return;
    if (req.method !== 'POST' || path !== '/orders') return void res.writeHead(404).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => order(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = {
    url: `http://127.0.0.1:${server.address().port}`,
    lastRequestAt: null,
    counts,
    effectsByKey,
    effectsByOrder,
    keysByOrder,
    overlaps,
    log,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return handle;
}
