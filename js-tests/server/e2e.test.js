// End to end: the durafetch client, through its public API only, against
// three server processes (two adapters) sharing one Redis, behind a front
// door that drops 30% of the answers after the order was applied.
// Node: 60 orders, each must resolve 201 with its own answer and be applied
// once. Chromium: 30 durable orders, half the answers dropped, two page reloads mid-flight; the
// next page resends what was pending, with the same keys: one effect each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createClient } from 'durafetch';
import { launch, PACKAGE_DIR } from '../browser/harness.js';
import { startChaosProxy } from './chaos-proxy.js';
import { startCluster, until } from './cluster.js';
import { startRedis } from './services.js';

let redis;
let cluster;
before(async () => {
  redis = await startRedis();
  cluster = await startCluster(['E1', 'E2', 'E3'].map((name, i) => ({
    name, adapter: i === 1 ? 'express' : 'fetch', store: 'redis', url: redis.url, delayMs: 5,
  })));
});
after(async () => {
  await cluster?.stop();
  await redis?.stop();
});

async function opsApplied() {
  const ops = {};
  const effects = {};
  for (const p of cluster.procs) {
    const r = await (await fetch(`${p.base}/control/effects`)).json();
    for (const [op, n] of Object.entries(r.ops)) ops[op] = (ops[op] ?? 0) + n;
    for (const [key, n] of Object.entries(r.effects)) effects[key] = (effects[key] ?? 0) + n;
  }
  return { ops, effects };
}

const range = (from, n) => Array.from({ length: n }, (_, i) => String(from + i));

test('Node: 60 orders through dropped answers, 3 processes on one Redis: each applied once', { timeout: 120_000 }, async () => {
  const proxy = await startChaosProxy({ backends: cluster.procs.map((p) => p.base), dropRate: 0.3, seed: 7 });
  const client = await createClient({ baseDelayMs: 10, maxDelayMs: 200, maxAttempts: 12, breaker: false });
  try {
    const answers = [];
    for (let batch = 0; batch < 6; batch++) {
      answers.push(...await Promise.all(range(batch * 10, 10).map(async (op) => {
        const res = await client.fetch(`${proxy.origin}/orders`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ op: Number(op) }),
        });
        return { op: Number(op), status: res.status, body: await res.json() };
      })));
    }
    for (const a of answers) {
      assert.equal(a.status, 201, `op ${a.op}`);
      assert.equal(a.body.order.op, a.op, 'each caller gets its own order\'s answer');
    }
    const { ops, effects } = await opsApplied();
    assert.deepEqual(Object.keys(ops).sort((a, b) => a - b), range(0, 60), 'every order applied');
    assert.deepEqual(Object.entries(ops).filter(([, n]) => n !== 1), [], 'each exactly once');
    assert.equal(Object.keys(effects).length, 60, 'one key per order');
    assert.ok(proxy.stats.dropped >= 10, `answers were dropped: ${proxy.stats.dropped}`);
    console.log(`Node: 60 orders, ${proxy.stats.forwarded} requests reached a backend, ${proxy.stats.dropped} answers dropped, 60 effects`);
  } finally {
    await client.close();
    await proxy.close();
  }
});

test('Chromium: 30 durable orders, two reloads mid-flight, dropped answers: each applied once', { timeout: 120_000 }, async () => {
  const pages = fileURLToPath(new URL('./pages/', import.meta.url));
  const proxy = await startChaosProxy({
    backends: cluster.procs.map((p) => p.base), dropRate: 0.5, seed: 11, statics: { '/pkg/': PACKAGE_DIR, '/page/': pages },
  });
  const browser = await launch();
  const ready = async (page) => {
    await page.waitForFunction(() => window.ready === true || window.failed, null, { timeout: 15_000 });
    const failed = await page.evaluate(() => window.failed);
    assert.equal(failed, undefined, 'the page made its client');
  };
  try {
    const page = await browser.context.newPage();
    await page.goto(`${proxy.origin}/page/e2e.html`);
    await ready(page);
    assert.equal(await page.evaluate(() => window.store), 'indexeddb', 'a durable outbox');
    await page.evaluate(() => window.start(30, 1000));
    // Every order is persisted and sent once, and some answers were lost, before the first reload.
    await until(() => proxy.stats.keys.size >= 30 && proxy.stats.dropped >= 3, 'all 30 orders sent', 30_000);
    const pendingAtReload = [];
    for (const reload of [1, 2]) {
      const before = proxy.stats.forwarded;
      pendingAtReload.push(await page.evaluate(() => window.pending()));
      await page.reload();
      await ready(page);
      // The new page's client resends what the last one left pending, at once.
      if (pendingAtReload.at(-1) > 0) await until(() => proxy.stats.forwarded > before, `resends after reload ${reload}`, 30_000);
    }
    assert.ok(pendingAtReload[0] > 0, 'the first reload interrupted pending orders');
    await until(async () => (await page.evaluate(() => window.pending())) === 0
      && Object.keys((await opsApplied()).ops).filter((op) => op >= 1000).length === 30, 'every order settled', 60_000);
    const { ops } = await opsApplied();
    const mine = Object.entries(ops).filter(([op]) => Number(op) >= 1000);
    assert.deepEqual(mine.map(([op]) => op).sort(), range(1000, 30), 'every order applied');
    assert.deepEqual(mine.filter(([, n]) => n !== 1), [], 'each exactly once');
    assert.equal(proxy.stats.keys.size, 30, 'one key per order, kept across reloads');
    assert.ok(proxy.stats.dropped >= 5, `answers were dropped: ${proxy.stats.dropped}`);
    // The package's `default` entry (runtimes that fetch their modules) loads its .wasm beside it.
    const inPage = await page.evaluate(async () => {
      const { idempotent, memoryStore } = await import('/pkg/server/default.js');
      let runs = 0;
      const handler = idempotent(async () => new Response(`run ${++runs}`, { status: 201 }), { store: memoryStore() });
      const request = () => new Request(`${location.origin}/x`, { method: 'POST', headers: { 'idempotency-key': 'page' }, body: 'b' });
      const first = await handler(request());
      const again = await handler(request());
      return [await first.text(), await again.text(), again.headers.get('idempotent-replayed'), runs];
    });
    assert.deepEqual(inPage, ['run 1', 'run 1', 'true', 1], 'durafetch/server\'s default entry in a page');
    console.log(`Chromium: 30 durable orders, 2 reloads (pending at each: ${pendingAtReload.join(', ')}), ${proxy.stats.forwarded} requests reached a backend, ${proxy.stats.dropped} answers dropped, 30 effects`);
  } finally {
    await browser.close();
    await proxy.close();
  }
});
