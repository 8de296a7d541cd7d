// The front door of the end-to-end tests: a loopback HTTP server that spreads
// POST /orders over several backend processes (round robin) and, with a
// seeded probability, drops the answer after the backend processed the
// order: the failure that makes a retry without a key a duplicate.
// Also serves the installed package (/pkg/) and the test pages (/page/).
// One request per connection: Chromium silently resends a request whose
// reused keep-alive socket closes unanswered, which would hide the drop.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Mulberry32: a seeded random() so a failing run can be replayed. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startChaosProxy({ backends, dropRate, seed = 1, statics = {} }) {
  const random = seeded(seed);
  const stats = { forwarded: 0, dropped: 0, keys: new Set() };
  let next = 0;
  const sockets = new Set();

  async function forward(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const key = req.headers['idempotency-key'];
    if (key) stats.keys.add(key);
    const backend = backends[next++ % backends.length];
    const headers = { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' };
    if (key) headers['idempotency-key'] = key;
    const answer = await fetch(`${backend}${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks), signal: AbortSignal.timeout(20_000) });
    const body = Buffer.from(await answer.arrayBuffer());
    stats.forwarded += 1;
    if (random() < dropRate) {
      stats.dropped += 1;
      req.socket.destroy(); // processed, but the answer never arrives
      return;
    }
    const out = { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' };
    for (const name of ['retry-after', 'idempotent-replayed']) if (answer.headers.has(name)) out[name] = answer.headers.get(name);
    res.writeHead(answer.status, out).end(body);
  }

  async function file(req, res) {
    const url = new URL(req.url, 'http://x').pathname;
    const prefix = Object.keys(statics).find((p) => url.startsWith(p));
    if (!prefix) return res.writeHead(404).end();
    const root = path.resolve(statics[prefix]);
    const target = path.resolve(root, `.${path.sep}${decodeURIComponent(url.slice(prefix.length))}`);
    if (!target.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      const bytes = await readFile(target);
      res.writeHead(200, { 'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  }

  const server = http.createServer((req, res) => {
    res.setHeader('connection', 'close');
    const handled = req.method === 'POST' && req.url.startsWith('/orders') ? forward(req, res) : file(req, res);
    handled.catch(() => { if (!res.headersSent) res.writeHead(502).end(); else req.socket.destroy(); });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    stats,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
