// Cost that grows with the work (issue 16): N keyed POSTs queue while the
// origin answers 503 (maxAttempts 1, so each ends 'queued' in the outbox),
// then the origin recovers and `resume()` drains them. Per-operation time to
// queue and to drain, at N = 250, 1,000, 2,000 and 5,000:
// - Node: a durable adapter store backed by a Map, an origin on 127.0.0.1 in
//   this process;
// - Chromium: the IndexedDB outbox, one fresh page per N, a same-origin server.
// Each drain must deliver every operation with its key and leave the outbox
// empty, else the section fails; keys the origin got twice are counted. Prints one JSON line.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'durafetch';
import { launchChromium, freshPage } from './lib/chromium.js';
import { startStaticServer } from './lib/static-server.js';
import { round } from './lib/stats.js';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '250,1000,2000,5000').split(',').map(Number);
const DRAIN_LIMIT_MS = 300_000;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const post = (i) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"item":${i}}` });

async function nodeRun(n) {
  let status = 503;
  const keys = new Map();
  const server = createServer((req, res) => {
    const key = req.headers['idempotency-key'];
    if (status === 200) keys.set(key, (keys.get(key) ?? 0) + 1);
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/orders`;
  const records = new Map();
  const store = {
    get: async (key) => records.get(key),
    put: async (record) => { records.set(record.key, record); },
    delete: async (key) => { records.delete(key); },
    list: async () => [...records.values()],
  };
  const client = await createClient({ store, maxAttempts: 1, breaker: false });
  try {
    let settled = 0;
    client.on('settled', () => { settled += 1; });
    let t0 = performance.now();
    const ends = await Promise.all(Array.from({ length: n }, (_, i) => client.fetch(url, post(i)).then(() => 'answered', (e) => e.kind)));
    const queueMs = performance.now() - t0;
    if (ends.some((end) => end !== 'queued') || records.size !== n) throw new Error(`Node N=${n}: ${records.size} stored, ends ${[...new Set(ends)]}`);
    status = 200;
    t0 = performance.now();
    await client.resume();
    while (settled < n && performance.now() - t0 < DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 5));
    const drainMs = performance.now() - t0;
    // Answers nobody waited for stay in the store, kept for result(key): the outbox is what pending() lists.
    const pending = (await client.pending()).length;
    if (settled !== n || pending !== 0 || keys.size !== n) {
      throw new Error(`Node N=${n}: ${settled} settled, ${pending} pending, ${keys.size} of ${n} keys delivered`);
    }
    return {
      queueMsPerOp: round(queueMs / n, 2), drainMsPerOp: round(drainMs / n, 2), drainOpsPerS: round(n / (drainMs / 1000), 0),
      // At least once: an attempt past its timeout in the queueing rush is resent, with its key.
      sentTwice: [...keys.values()].filter((count) => count > 1).length,
    };
  } finally {
    await client.close();
    server.closeAllConnections();
    server.close();
  }
}

/** Runs in the page: queue n durable POSTs, then drain once the server recovers. */
async function pageQueue({ n }) {
  const { createClient } = await import('/durafetch/browser.js');
  const client = await createClient({ store: 'indexeddb', maxAttempts: 1, breaker: false });
  window.client = client;
  window.settled = 0;
  client.on('settled', () => { window.settled += 1; });
  const t0 = performance.now();
  const ends = await Promise.all(Array.from({ length: n }, (_, i) => client.fetch('/api/orders', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"item":${i}}`, durable: true,
  }).then(() => 'answered', (e) => e.kind)));
  return { queueMs: performance.now() - t0, queued: ends.filter((end) => end === 'queued').length, pending: (await client.pending()).length };
}

async function pageDrain({ n, limitMs }) {
  const t0 = performance.now();
  await window.client.resume();
  while (window.settled < n && performance.now() - t0 < limitMs) await new Promise((resolve) => setTimeout(resolve, 5));
  const drainMs = performance.now() - t0;
  const pending = (await window.client.pending()).length;
  await window.client.close();
  return { drainMs, settled: window.settled, pending };
}

async function chromiumRuns() {
  const { context, missing, version, close } = await launchChromium();
  if (!context) return { skipped: missing };
  const server = await startStaticServer({ '/durafetch/': join(BENCH_DIR, 'node_modules', 'durafetch') });
  try {
    const runs = {};
    for (const n of SIZES) {
      const page = await freshPage(context, `${server.origin}/index.html`);
      await page.evaluate(() => new Promise((resolve) => { const r = indexedDB.deleteDatabase('durafetch'); r.onsuccess = r.onerror = r.onblocked = resolve; }));
      server.answer(503);
      const queued = await page.evaluate(pageQueue, { n });
      if (queued.queued !== n || queued.pending !== n) throw new Error(`Chromium N=${n}: ${queued.queued} queued, ${queued.pending} pending`);
      const before = server.orders();
      server.answer(200);
      const drained = await page.evaluate(pageDrain, { n, limitMs: DRAIN_LIMIT_MS });
      const after = server.orders();
      await page.close();
      if (drained.settled !== n || drained.pending !== 0) throw new Error(`Chromium N=${n}: ${drained.settled} settled, ${drained.pending} pending`);
      runs[n] = {
        queueMsPerOp: round(queued.queueMs / n, 2), drainMsPerOp: round(drained.drainMs / n, 2),
        drainOpsPerS: round(n / (drained.drainMs / 1000), 0), resends: after.posts - before.posts,
      };
    }
    return { version, runs };
  } finally {
    await close();
    await server.close();
  }
}

const node = {};
for (const n of SIZES) node[n] = await nodeRun(n);
console.log(JSON.stringify({ sizes: SIZES, node, chromium: await chromiumRuns() }));
