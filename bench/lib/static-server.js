// A 127.0.0.1 server for the Chromium benchmarks: serves folders under URL
// prefixes (pkg files, consumer bundles) and answers POST/GET /api/orders
// with a small JSON body, so pages fetch from their own origin.
// `crossOriginIsolated` sends COOP/COEP with the page: Chromium then gives
// performance.now() 5 µs resolution instead of 100 µs.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };
const PAGE = '<!doctype html><meta charset="utf-8"><title>durafetch bench</title>';

/** `roots`: { '/durafetch/': '/abs/dir', ... }. Resolves to { origin, orders(), answer(status), close }:
 * orders() counts the POSTs to /api/orders and their distinct Idempotency-Keys so far;
 * answer(status) sets the status /api/orders answers (200 until then). */
export function startStaticServer(roots, { crossOriginIsolated = false } = {}) {
  const isolation = crossOriginIsolated
    ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const posts = { count: 0, keys: new Set() };
  let status = 200;
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/api/orders') {
      if (req.method === 'POST') {
        posts.count += 1;
        if (req.headers['idempotency-key']) posts.keys.add(req.headers['idempotency-key']);
      }
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}'));
      return;
    }
    if (path === '/' || path === '/index.html') return res.writeHead(200, { 'content-type': 'text/html', ...isolation }).end(PAGE);
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const relative = prefix && normalize(path.slice(prefix.length));
    if (!relative || relative.startsWith('..')) return res.writeHead(404).end();
    try {
      const body = await readFile(join(roots[prefix], relative));
      res.writeHead(200, { 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      origin: `http://127.0.0.1:${server.address().port}`,
      orders: () => ({ posts: posts.count, distinctKeys: posts.keys.size }),
      answer: (next) => { status = next; },
      close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
    }));
  });
}
