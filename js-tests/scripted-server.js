// A real HTTP server on 127.0.0.1 whose answers are scripted per path, and
// which counts effects per Idempotency-Key the way a deduplicating server would.
//
//   server.script('/a', ['drop', 'drop', 200]) — each request to /a takes the
//   next action; the last one repeats. Actions:
//     200, 503, …            answer with that status (2xx applies the effect)
//     'drop'                 apply the effect, then destroy the socket unanswered
//     'hang'                 never answer (the client must time out or abort)
//     'hold'                 apply the effect, then never answer (a crash loses the answer)
//     { status, retryAfter } answer with a Retry-After header
//     { status, delayMs }    apply the effect, answer after a delay
// `statics` maps URL prefixes to directories (for browser tests' pages),
// served with `cacheControl` ('no-store' unless a test needs the page in the
// back/forward cache, which refuses no-store pages: 'no-cache' is as fresh).
// The server also tracks how many requests per key are in flight at once.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

async function serveStatic(statics, path, res, cacheControl) {
  for (const [prefix, dir] of Object.entries(statics)) {
    if (!path.startsWith(prefix)) continue;
    const rel = normalize(decodeURIComponent(path.slice(prefix.length)));
    if (rel.startsWith('..')) break;
    try {
      const body = await readFile(join(dir, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', 'cache-control': cacheControl });
      res.end(body);
      return true;
    } catch {
      break;
    }
  }
  return false;
}

export async function startTestServer({ statics = {}, cacheControl = 'no-store' } = {}) {
  const scripts = new Map();
  const inFlight = new Map(); // key -> requests being processed now
  let maxInFlightPerKey = 0;
  const requests = new Map(); // path -> [{ key, method, body, at }]
  const effects = new Map(); // path -> Map(key -> times applied)
  const sockets = new Set();

  function apply(path, key) {
    const perKey = effects.get(path) ?? new Map();
    effects.set(path, perKey);
    const id = key ?? `unkeyed-${perKey.size}`;
    // A deduplicating server applies a key once; we count every application
    // so a duplicate effect would show as 2.
    if (key && perKey.has(id)) return false;
    perKey.set(id, (perKey.get(id) ?? 0) + 1);
    return true;
  }

  const server = http.createServer(async (req, res) => {
    // No keep-alive: Chromium silently resends a request (POST included) that
    // fails on a reused idle socket, which would hide the drops we script.
    res.setHeader('connection', 'close');
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && await serveStatic(statics, path, res, cacheControl)) return;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const key = req.headers['idempotency-key'] ?? null;
      const log = requests.get(path) ?? [];
      requests.set(path, log);
      log.push({ key, method: req.method, body, headers: req.headers, at: Date.now() });
      const script = scripts.get(path) ?? [200];
      const action = script[Math.min(log.length - 1, script.length - 1)];
      res.setHeader('access-control-allow-origin', '*');
      if (key) {
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        maxInFlightPerKey = Math.max(maxInFlightPerKey, inFlight.get(key));
        const done = () => inFlight.set(key, inFlight.get(key) - 1);
        res.on('close', done);
      }
      if (action === 'hang') return;
      if (action === 'hold') {
        apply(path, key);
        return;
      }
      if (action === 'drop') {
        apply(path, key);
        req.socket.destroy();
        return;
      }
      const status = typeof action === 'number' ? action : action.status;
      if (typeof action === 'object' && action.retryAfter !== undefined) {
        res.setHeader('retry-after', String(action.retryAfter));
      }
      if (status < 300) apply(path, key);
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      const answer = JSON.stringify({ status, attempt: log.length, key, body: body.toString('utf8') });
      if (typeof action === 'object' && action.delayMs) setTimeout(() => res.end(answer), action.delayMs);
      else res.end(answer);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    script(path, actions) {
      scripts.set(path, actions);
      return url + path;
    },
    requests: (path) => requests.get(path) ?? [],
    /** The most requests with one key the server was processing at once. */
    maxInFlightPerKey: () => maxInFlightPerKey,
    /** Map of key -> times the effect was applied. */
    effects: (path) => effects.get(path) ?? new Map(),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Waits until `predicate()` (sync or async) holds, polling; fails after `ms`. Never a timing assertion. */
export async function until(predicate, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
