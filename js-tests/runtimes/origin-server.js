// The origin every runtime test talks to: a real HTTP server on 127.0.0.1.
//
// POST /orders is an idempotent order API that loses the first answer of every
// operation: it reads the body, applies the effect once per Idempotency-Key,
// stores the answer, then destroys the socket without answering. A later
// attempt with the same key (and the same body) gets the stored answer, as a
// deduplicating server would give it. A duplicate effect would show as 2.
// `dropsPerKey` drops more receipts of a key than the first: Deno's own fetch
// silently resends a request once when the socket closes unanswered, so it
// takes two drops there before durafetch sees a failed attempt.
// POST /orders/held is the same, except that the first receipt of a key is
// held open (after the effect) until the test calls `releaseHeld()`, which
// drops it: the test can look at the client's storage while that first
// attempt is in flight.
//
// Everything else is static files from `staticRoots` ({ '/url/prefix/': dir }),
// so pages, workers and the package's .wasm come from the same origin. The
// SHA-256 of every .wasm served is recorded, to prove which file a browser ran.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startOriginServer({ staticRoots = {}, dropsPerKey = 1 } = {}) {
  const attempts = new Map(); // key -> attempts seen
  const effects = new Map(); // key -> times the order was applied
  const answers = new Map(); // key -> { body, answer }
  const unkeyed = []; // POSTs that came without a key (should be none)
  const servedWasm = []; // { path, sha256 }
  const served = []; // every static path served
  const sockets = new Set();
  const held = []; // { key, socket } of first receipts held open on /orders/held
  let orders = 0;

  async function order(req, res, { hold }) {
    const body = await readBody(req);
    const key = req.headers['idempotency-key'];
    if (!key) {
      unkeyed.push(body.toString('utf8'));
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Idempotency-Key required');
      return;
    }
    const receipt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, receipt);
    const stored = answers.get(key);
    if (stored && receipt <= dropsPerKey) {
      req.socket.destroy();
      return;
    }
    if (stored) {
      const same = stored.body.equals(body);
      res.writeHead(same ? 201 : 422, { 'content-type': 'application/json', 'idempotency-replayed': 'true' });
      res.end(same ? stored.answer : JSON.stringify({ error: 'same key, different body' }));
      return;
    }
    effects.set(key, (effects.get(key) ?? 0) + 1);
    orders += 1;
    const answer = JSON.stringify({ order: orders, key, received: JSON.parse(body.toString('utf8')) });
    answers.set(key, { body, answer });
    if (hold) held.push({ key, socket: req.socket });
    else req.socket.destroy(); // processed, but the answer is lost on the way back
  }

  async function file(req, res) {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = Object.keys(staticRoots).find((p) => urlPath.startsWith(p));
    if (!prefix) return res.writeHead(404).end('not found');
    const root = path.resolve(staticRoots[prefix]);
    const target = path.resolve(root, '.' + path.sep + urlPath.slice(prefix.length));
    if (target !== root && !target.startsWith(root + path.sep)) return res.writeHead(403).end('forbidden');
    let bytes;
    try {
      bytes = await readFile(target);
    } catch {
      return res.writeHead(404).end('not found');
    }
    const ext = path.extname(target);
    served.push(urlPath);
    if (ext === '.wasm') servedWasm.push({ path: urlPath, sha256: sha256(bytes) });
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(bytes);
  }

  const server = http.createServer((req, res) => {
    // One request per connection: Chromium silently resends a request whose
    // reused keep-alive socket closes unanswered, which would hide the drop
    // from durafetch. On a fresh socket it reports the failure instead.
    res.setHeader('connection', 'close');
    const isOrder = req.method === 'POST' && (req.url === '/orders' || req.url === '/orders/held');
    const handled = isOrder ? order(req, res, { hold: req.url === '/orders/held' }) : file(req, res);
    handled.catch((error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    ordersUrl: `${origin}/orders`,
    heldOrdersUrl: `${origin}/orders/held`,
    port: server.address().port,
    dropsPerKey,
    /** Requests received with `key`, dropped ones included. */
    attempts: (key) => attempts.get(key) ?? 0,
    effects: (key) => effects.get(key) ?? 0,
    /** The answer stored for `key`, parsed (what a replay returns). */
    answer: (key) => (answers.has(key) ? JSON.parse(answers.get(key).answer) : undefined),
    keys: () => [...attempts.keys()],
    totalEffects: () => [...effects.values()].reduce((a, b) => a + b, 0),
    unkeyed: () => unkeyed.length,
    servedWasm: () => servedWasm.slice(),
    /** Every static file served, by path. */
    served: () => served.slice(),
    /** Waits (bounded) until `count` first receipts are held; returns their keys. */
    async waitForHeld(count, ms = 15_000) {
      const end = Date.now() + ms;
      while (held.length < count) {
        if (Date.now() > end) throw new Error(`the origin holds ${held.length} of ${count} requests after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return held.map((h) => h.key);
    },
    /** Drops every held request unanswered (their effects stay applied). */
    releaseHeld() {
      for (const { socket } of held.splice(0)) socket.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
