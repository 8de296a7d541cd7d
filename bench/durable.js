// The cost of durability in headless Chromium (issue 6), against a
// same-origin server on 127.0.0.1 that answers 200 at once, from one page:
// 1. latency: a keyed POST persisted to IndexedDB before it is sent (and
//    deleted on the answer), a memory-store keyed POST and a raw fetch,
//    interleaved call by call; the added latency of durability at p50 and
//    p99 is the durable figure minus the memory-store one.
// 2. sustained: 10,000 durable POSTs, 16 in flight; every one must be
//    persisted, answered 200 and deleted, and the outbox empty at the end.
//    For scale, first the same pool with raw fetch and with an outbox by
//    hand (IndexedDB put, fetch, delete: what any durable POST must do).
// Prints "n/a (outbox not built)" when the client reports no IndexedDB
// persistence. Prints one JSON line.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { launchChromium, freshPage } from './lib/chromium.js';
import { startStaticServer } from './lib/static-server.js';
import { POST_BODY } from './lib/contenders.js';
import { percentile } from './lib/stats.js';

// Sized to keep the section under ~60 s on 2 cores: the 10,000 durable POSTs
// alone take 35-45 s there at today's 240-290 ops/s.
const CALLS = Number(process.env.BENCH_DURABLE_CALLS ?? 700); // timed calls per contender
const WARMUP = 50;
const SUSTAINED_OPS = Number(process.env.BENCH_DURABLE_OPS ?? 10_000);
const REFERENCE_OPS = 1_000; // raw fetch and the by-hand outbox, same pool, for scale
const IN_FLIGHT = 16;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Runs in the page: opens both clients on window.bench, or says why not. */
async function openClients({ body }) {
  const { createClient } = await import('/durafetch/browser.js');
  let durable;
  try {
    durable = await createClient({ store: 'indexeddb' });
  } catch (error) {
    return { na: `createClient({ store: 'indexeddb' }) threw ${error.kind ?? error.name}` };
  }
  const selected = await new Promise((resolve) => {
    durable.on('store', (event) => { if (event.type === 'selected') resolve(event); });
    setTimeout(() => resolve(null), 1000);
  });
  const persistent = selected ? selected.persistent === true && selected.store === 'indexeddb' : durable.store === 'indexeddb';
  if (!persistent) return { na: 'outbox not built' };
  const memory = await createClient({ store: 'memory' });
  const init = (extra) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body, ...extra });
  window.bench = {
    durable,
    memory,
    contenders: {
      raw: () => fetch('/api/orders', init()),
      'durafetch keyed POST, memory store': () => memory.fetch('/api/orders', init()),
      'durafetch durable POST, IndexedDB': () => durable.fetch('/api/orders', init({ durable: true })),
    },
  };
  // One durable call first: it must leave a database behind, else nothing persisted.
  await (await window.bench.contenders['durafetch durable POST, IndexedDB']()).arrayBuffer();
  if ((await indexedDB.databases()).length === 0) return { na: 'outbox not built (no IndexedDB database written)' };
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true };
}

/** Runs in the page: every contender in turn, call by call, the order rotating. */
async function measureLatency({ calls, warmup }) {
  const { contenders } = window.bench;
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let c = 0; c < warmup + calls; c += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + c) % names.length];
      const t0 = performance.now();
      const response = await contenders[name]();
      await response.arrayBuffer();
      const ms = performance.now() - t0;
      if (response.status !== 200) throw new Error(`${name} answered ${response.status}`);
      if (c >= warmup) samples[name].push(ms);
    }
  }
  return samples;
}

/** Runs in the page: the floor of any IndexedDB outbox, by hand: put the
 * record, POST, delete it on the answer, each write in its own committed
 * transaction (as durafetch, it resolves before the body is read). */
async function openByHand({ body }) {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('bench-by-hand', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('outbox', { keyPath: 'key' });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const write = (apply) => new Promise((resolve, reject) => {
    const tx = db.transaction('outbox', 'readwrite');
    apply(tx.objectStore('outbox'));
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  const bytes = new TextEncoder().encode(body);
  window.bench.byHand = async () => {
    const key = crypto.randomUUID();
    const headers = { 'content-type': 'application/json', 'idempotency-key': key };
    await write((store) => store.put({ key, method: 'POST', url: '/api/orders', headers: Object.entries(headers), body: bytes, createdAt: Date.now() }));
    const response = await fetch('/api/orders', { method: 'POST', headers, body: bytes });
    await write((store) => store.delete(key));
    return response;
  };
}

/** Runs in the page: `ops` calls of one contender, `inFlight` at a time. For
 * durafetch's durable POST it also counts the outbox writes (IDBObjectStore
 * put/delete on 'outbox'), then checks the outbox is empty and closes. */
async function measureSustained({ ops, inFlight, name }) {
  const { durable, contenders } = window.bench;
  const send = name === 'by hand' ? window.bench.byHand : contenders[name];
  const counting = name === 'durafetch durable POST, IndexedDB';
  const writes = { put: 0, delete: 0 };
  const proto = IDBObjectStore.prototype;
  const original = { put: proto.put, delete: proto.delete };
  if (counting) {
    for (const method of ['put', 'delete']) {
      proto[method] = function counted(...args) {
        if (this.name === 'outbox') writes[method] += 1;
        return original[method].apply(this, args);
      };
    }
  }
  let next = 0;
  let ok = 0;
  const failures = [];
  const worker = async () => {
    while (next < ops) {
      next += 1;
      try {
        const response = await send();
        await response.arrayBuffer();
        if (response.status === 200) ok += 1; else failures.push(`status ${response.status}`);
      } catch (error) {
        failures.push(error.kind ?? error.name);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const result = { ops, inFlight, seconds, opsPerS: ops / seconds, ok, failed: failures.length, failures: failures.slice(0, 5) };
  if (!counting) {
    Object.assign(proto, original);
    return result;
  }
  // Deletes of settled records are committed after their callers resolve
  // (reported first, then deleted, grouped for up to 8 ms): count the last
  // ones before putting the prototype back.
  for (let i = 0; i < 100 && (writes.delete < ops || (await durable.pending()).length > 0); i += 1) {
    await new Promise((r) => setTimeout(r, 10));
  }
  Object.assign(proto, original);
  const pendingAfter = (await durable.pending()).length;
  const outboxAfter = await new Promise((resolve, reject) => {
    const open = indexedDB.open('durafetch');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const count = db.transaction('outbox', 'readonly').objectStore('outbox').count();
      count.onsuccess = () => { db.close(); resolve(count.result); };
      count.onerror = () => { db.close(); reject(count.error); };
    };
  });
  await durable.close();
  await window.bench.memory.close();
  return { ...result, puts: writes.put, deletes: writes.delete, pendingAfter, outboxAfter };
}

const round3 = (ms) => Math.round(ms * 1000) / 1000;
const summary = (list) => ({ p50Ms: round3(percentile(list, 50)), p99Ms: round3(percentile(list, 99)) });

async function run(page, server) {
  const opened = await page.evaluate(openClients, { body: POST_BODY });
  if (opened.na) return opened;
  const samples = await page.evaluate(measureLatency, { calls: CALLS, warmup: WARMUP });
  const durable = summary(samples['durafetch durable POST, IndexedDB']);
  const memory = summary(samples['durafetch keyed POST, memory store']);
  await page.evaluate(openByHand, { body: POST_BODY });
  const reference = {};
  for (const name of ['raw', 'by hand']) {
    const figures = await page.evaluate(measureSustained, { ops: REFERENCE_OPS, inFlight: IN_FLIGHT, name });
    reference[name] = { opsPerS: Math.round(figures.opsPerS), ops: figures.ops, failed: figures.failed };
  }
  const before = server.orders();
  const sustained = await page.evaluate(measureSustained, { ops: SUSTAINED_OPS, inFlight: IN_FLIGHT, name: 'durafetch durable POST, IndexedDB' });
  const after = server.orders();
  return {
    crossOriginIsolated: opened.crossOriginIsolated,
    calls: CALLS,
    ...Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summary(list)])),
    added: { p50Ms: round3(durable.p50Ms - memory.p50Ms), p99Ms: round3(durable.p99Ms - memory.p99Ms) },
    sustained: { ...sustained, opsPerS: Math.round(sustained.opsPerS), seconds: round3(sustained.seconds),
      serverPosts: after.posts - before.posts, serverKeys: after.distinctKeys - before.distinctKeys,
      reference },
  };
}

const { context, missing, version, close } = await launchChromium();
if (!context) {
  console.error(`durable: n/a (${missing})`);
  console.log(JSON.stringify({ na: missing }));
} else {
  const server = await startStaticServer({ '/durafetch/': join(BENCH_DIR, 'node_modules', 'durafetch') }, { crossOriginIsolated: true });
  try {
    const page = await freshPage(context, `${server.origin}/index.html`);
    const result = await run(page, server);
    if (result.na) console.error(`durable: n/a (${result.na})`);
    console.log(JSON.stringify({ version, ...result }));
  } finally {
    await close();
    await server.close();
  }
}
