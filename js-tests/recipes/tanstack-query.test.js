// The README's TanStack Query recipe (./tanstack-query.js, imported as is by
// the app in ./app/) in real Chromium against a deduplicating origin on
// 127.0.0.1: an order mutation in flight at a reload is resent by the next
// page's durafetch client with the same key, and its answer reaches the new
// page through client.result(key) into the query cache; an order queued
// without a reload keeps its mutation pending until the resend settles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { launchChromium } from '../runtimes/chromium.js';
import { startOriginServer } from '../runtimes/origin-server.js';
import { PACKAGE_DIR, REPO, requirePackage } from '../runtimes/processes.js';

const APP = new URL('./app/', import.meta.url).pathname;
const ORDER = { item: 'coffee', qty: 2 };

let dir;
let server;
let browser;
before(async () => {
  requirePackage();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-recipe-tanstack-'));
  await buildApp(dir);
  server = await startOriginServer({ staticRoots: { '/app/': dir } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The app bundled as a user's bundler would: durafetch's browser entry, query-core, the recipe. */
async function buildApp(outdir) {
  const result = await build({
    entryPoints: [`${APP}main.js`],
    absWorkingDir: REPO,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outdir,
    // query-core reads process.env.NODE_ENV, which app bundlers define.
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  for (const input of ['js-tests/recipes/tanstack-query.js', 'node_modules/durafetch/browser.js']) {
    assert.ok(inputs.includes(input), `the bundle has ${input}: ${inputs}`);
  }
  assert.ok(inputs.some((i) => i.startsWith('node_modules/@tanstack/query-core/')), 'the bundle has query-core');
  await copyFile(`${PACKAGE_DIR}durafetch.wasm`, path.join(outdir, 'durafetch.wasm'));
  await copyFile(`${APP}index.html`, path.join(outdir, 'index.html'));
}

async function openApp(page, ordersUrl, options = {}) {
  const query = new URLSearchParams({ url: ordersUrl, o: JSON.stringify(options) });
  await page.goto(`${server.origin}/app/index.html?${query}`);
  await waitReady(page);
}

async function waitReady(page) {
  await page.waitForFunction(() => window.ready === true || window.failed, null, { timeout: 15_000 });
  const failed = await page.evaluate(() => window.failed);
  assert.equal(failed, undefined, `the app started: ${failed}`);
}

/** What the page's recipe holds, as plain data. */
function appState(page, key) {
  return page.evaluate((k) => {
    const { status, variables, data } = window.app.placeOrder.getCurrentResult();
    return {
      observer: { status, variables, data },
      mutations: window.app.queryClient.getMutationCache().getAll().map((m) => m.state.status),
      states: window.states,
      cached: window.app.queryClient.getQueryData(['order', k]) ?? null,
      pendingKeys: JSON.parse(sessionStorage.getItem('orders:pending') ?? '[]'),
      settled: window.settled,
    };
  }, key);
}

/** The value the page sets at window[name], waited for with a bound. */
async function pageValue(page, name) {
  const handle = await page.waitForFunction((n) => window[n], name, { timeout: 15_000 });
  return handle.jsonValue();
}

test('recipe: a mutation in flight at a reload completes, and its answer reaches the new page through result(key)', { timeout: 60_000 }, async () => {
  const page = await browser.context.newPage();
  await openApp(page, server.heldOrdersUrl);
  await page.evaluate((order) => { window.app.submit(order).catch(() => {}); }, ORDER);
  // The origin applies the order and holds the answer: the mutation is in flight.
  const [key] = await server.waitForHeld(1);

  const before = await appState(page, key);
  assert.equal(before.observer.status, 'pending', 'the MutationObserver shows the order pending');
  assert.deepEqual(before.observer.variables, { key, order: ORDER }, 'the key sent is the one chosen before mutate');
  assert.deepEqual(before.states, [{ status: 'pending', key }]);
  assert.deepEqual(before.mutations, ['pending']);
  assert.deepEqual(before.pendingKeys, [key], 'remembered for the next page');

  await page.reload();
  await waitReady(page);
  assert.equal(await pageValue(page, 'recovered'), 'recovered');

  const after = await appState(page, key);
  assert.deepEqual(after.cached, server.answer(key), 'the query cache holds the answer of the one applied order');
  assert.deepEqual(after.cached.received, ORDER);
  assert.deepEqual(after.pendingKeys, [], 'forgotten once its answer is seen');
  assert.deepEqual(after.mutations, [], 'no mutation on the new page: the answer came through result(key)');
  assert.deepEqual(after.settled, [{ key, status: 201, resumed: true }], 'resent in the background by the new page\'s client');
  assert.equal(await page.evaluate((k) => window.app.durafetch.result(k), key), null, 'result(key) was read once');
  assert.equal(server.attempts(key), 2, 'sent twice: before and after the reload');
  assert.deepEqual(server.keys(), [key], 'both sends carried the same key');
  assert.equal(server.effects(key), 1, 'the order was applied once');
  assert.equal(server.unkeyed(), 0);
  assert.deepEqual(browser.errors, []);
  await page.close();
});

test('recipe: an order queued after its attempts keeps the mutation pending until the background resend settles it', { timeout: 60_000 }, async () => {
  const page = await browser.context.newPage();
  // One attempt, whose answer the origin drops: durafetch rejects 'queued'.
  await openApp(page, server.ordersUrl, { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 50 });
  await page.evaluate((order) => {
    window.app.submit(order).then((placed) => { window.placed = placed; }, (e) => { window.placed = { error: `${e.name}: ${e.message}` }; });
  }, ORDER);
  const placed = await pageValue(page, 'placed');
  const [{ key }] = await page.evaluate(() => window.states);
  const state = await appState(page, key);
  assert.deepEqual(state.states.map((s) => s.status), ['pending', 'success'], 'never an error: queued is not a failure');
  assert.deepEqual(placed, server.answer(key), 'the mutation resolved with the answer of the one applied order');
  assert.deepEqual(state.cached, placed, 'and put it in the query cache');
  assert.deepEqual(state.pendingKeys, []);
  assert.equal(server.attempts(key), 2, 'the drop, then the background resend');
  assert.equal(server.effects(key), 1);
  assert.equal(server.unkeyed(), 0);
  assert.deepEqual(browser.errors, []);
  await page.close();
});
