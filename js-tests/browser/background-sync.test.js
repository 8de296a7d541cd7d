// Background Sync in real Chromium: a module service worker on 127.0.0.1
// running handleBackgroundSync (pages/sync-sw.js) delivers what pages left,
// with every page closed, when the browser fires its 'sync' event (going back
// online, or the DevTools protocol's dispatchSyncEvent). Nothing here mocks
// the Sync API: the worker reports what its waits did to the test server.
// The offline cases run first: after ServiceWorker.stopAllWorkers,
// context.setOffline hangs until a worker restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PATIENT as patient } from '../patient.js';
import { launch, openClient, openPage, pageEvents, readStore, withServer } from './harness.js';
import { serviceWorkers } from './service-workers.js';
import { readRecord } from '../record-bytes.js';
import { until } from '../scripted-server.js';

let browser;
before(async () => { browser = await launch(); });
after(() => browser.close());

/** A page never resends on its own timer during a test. */
const PATIENT = { ...patient, breaker: false };

/** A page of `server`'s origin whose service worker runs handleBackgroundSync. */
function openWithWorker(server, options = PATIENT) {
  return openPage(browser.context, `${server.url}/page/client.html?sw&o=${encodeURIComponent(JSON.stringify(options))}`);
}

/** What the origin's service worker reported (its sync waits, what settled). */
const workerLog = (server) => server.requests('/sw-log').map((r) => JSON.parse(r.body.toString()));
const syncOutcomes = (server) => workerLog(server).filter((e) => e.sync);

/** The operations in the origin's IndexedDB outbox, read from a page of the origin. */
async function storedOperations(server) {
  const page = await browser.context.newPage();
  try {
    await page.goto(`${server.url}/page/blank.html`);
    const values = await readStore(page, 'outbox');
    return values.filter((v) => v.response === undefined).map((v) => readRecord(v.data));
  } finally {
    await page.close();
  }
}

const tags = (page) => page.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags());

/** Pages of the origin still open (the context's own about:blank is not one). */
const originPages = (server) => browser.context.pages().filter((p) => p.url().startsWith(server.url));

test('queued offline, every page closed, back online: the worker delivers it once with its key; a page opened later reads the answer', () => withServer(async (server) => {
  const url = server.script('/offline', [201]);
  const page = await openWithWorker(server);
  await browser.context.setOffline(true);
  let key;
  try {
    await page.waitForFunction(() => navigator.onLine === false);
    const { error } = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'order #1' }), url);
    assert.deepEqual([error.kind, error.reason], ['queued', 'offline']);
    key = error.key;
    await until(async () => (await tags(page)).includes('durafetch'), 5_000, "the 'durafetch' sync tag registered");
    await page.close();
    assert.equal(originPages(server).length, 0, 'no page of the origin open');
  } finally {
    await browser.context.setOffline(false);
  }
  await until(() => server.requests('/offline').length === 1, 15_000, 'the worker resending it once the browser is online');
  assert.equal(originPages(server).length, 0, 'delivered with no page of the origin open');
  const [sent] = server.requests('/offline');
  assert.equal(sent.key, key, 'the key the page queued it under');
  assert.equal(sent.body.toString(), 'order #1');
  assert.equal(sent.headers.authorization, 'Bearer from-the-worker', "the worker's beforeReplay ran");
  await until(() => syncOutcomes(server).length > 0, 5_000, "the sync event's outcome");
  assert.deepEqual(syncOutcomes(server).map((e) => e.sync), ['resolved'], 'nothing remained: the wait resolved');
  assert.deepEqual([...server.effects('/offline').values()], [1]);

  const later = await openClient(browser.context, server);
  const answer = await later.evaluate(async (k) => {
    const res = await window.client.result(k);
    return res && { status: res.status, body: JSON.parse(await res.text()) };
  }, key);
  assert.equal(answer?.status, 201, 'the page reads the answer the worker kept');
  assert.equal(answer.body.key, key);
  assert.equal(server.requests('/offline').length, 1, 'and sends nothing');
  await later.close();
}));

test("Authorization, never stored, is put back by the worker's beforeReplay", () => withServer(async (server) => {
  const url = server.script('/auth', [503, 201]);
  const page = await openWithWorker(server);
  const { error } = await page.evaluate((u) => window.send(u, {
    method: 'POST', body: 'with a token', headers: { authorization: 'Bearer from-the-page' },
  }), url);
  assert.equal(error.kind, 'queued');
  // Online, registering the tag fires the sync event at once.
  await until(() => server.requests('/auth').length === 2, 15_000, 'the worker resending it');
  const [first, resent] = server.requests('/auth');
  assert.equal(first.headers.authorization, 'Bearer from-the-page');
  assert.equal(resent.headers.authorization, 'Bearer from-the-worker', 'redacted at rest, put back by the worker');
  assert.equal(resent.key, first.key);
  await until(() => workerLog(server).some((e) => e.settled === first.key), 5_000, "the worker's 'settled'");
  assert.deepEqual([...server.effects('/auth').values()], [1]);
  await page.close();
}));

test('two sync events at once and a page draining: one send per attempt, never two of one operation at once', () => withServer(async (server) => {
  const url = server.script('/concurrent', [503, { status: 201, delayMs: 500 }]);
  const page = await openWithWorker(server);
  const workers = await serviceWorkers(browser.context);
  try {
    const { error } = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'once' }), url);
    assert.equal(error.kind, 'queued');
    // The sync event registering fired is resending it (answered in 500 ms): now two more, and the page.
    await until(() => server.requests('/concurrent').length === 2, 15_000, "the worker's resend in flight");
    const [drained] = await Promise.all([
      page.evaluate(() => window.client.drain()),
      workers.dispatchSync(server.url),
      workers.dispatchSync(server.url),
    ]);
    assert.deepEqual(drained, { settled: 0, remaining: 0 }, 'the page found it settled by the worker');
    await until(() => syncOutcomes(server).length >= 3, 10_000, 'the three sync events ended');
    assert.ok(syncOutcomes(server).every((e) => e.sync === 'resolved'), JSON.stringify(syncOutcomes(server)));
    assert.equal(server.maxInFlightPerKey(), 1, 'an operation was in flight twice at once');
    assert.equal(server.requests('/concurrent').length, 2, 'the page, then one resend');
    assert.deepEqual([...server.effects('/concurrent').values()], [1]);
  } finally {
    await workers.close();
  }
  await page.close();
}));

test('503 during a sync: the operation stays stored and the wait rejects; on the last chance it resolves, the record still there', () => withServer(async (server) => {
  const url = server.script('/failing', [503]);
  const page = await openWithWorker(server);
  const { error } = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'keep me' }), url);
  assert.equal(error.kind, 'queued');
  await until(() => syncOutcomes(server).length === 1, 15_000, 'the first sync event');
  const [first] = syncOutcomes(server);
  assert.deepEqual([first.sync, first.kind, first.remaining], ['rejected', 'queued', 1], 'rejected: the browser fires it again');
  await page.close();

  const workers = await serviceWorkers(browser.context);
  try {
    await workers.stopAll();
    await workers.dispatchSync(server.url, { lastChance: true });
    await until(() => syncOutcomes(server).length === 2, 15_000, 'the last-chance sync event');
  } finally {
    await workers.close();
  }
  const last = syncOutcomes(server)[1];
  assert.deepEqual([last.sync, last.lastChance], ['resolved', true], 'resolved on the last chance');
  assert.notEqual(last.instance, first.instance, 'handled by a worker started afresh');
  const sent = server.requests('/failing');
  assert.equal(sent.length, 3, 'the page, then one resend per sync event');
  assert.ok(sent.every((r) => r.key === error.key), 'always its key');
  const stored = await storedOperations(server);
  assert.deepEqual(stored.map((r) => [r.key, r.attempts]), [[error.key, 3]], 'still stored, for the next page or sync');
}));

test('without SyncManager, a tab becoming visible resends what is stored', async () => {
  // Headless Chromium reports every page visible; a page restored from the
  // back/forward cache really goes hidden, then visible. Playwright turns
  // that cache off by default, and it refuses pages served no-store.
  const bfcache = await launch({ ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  try {
    await withServer(async (server) => {
      const url = server.script('/visible', [503, 201]);
      const page = await bfcache.context.newPage();
      await page.addInitScript(() => {
        delete window.SyncManager; // Safari, Firefox
        window.shown = [];
        addEventListener('pageshow', (e) => window.shown.push(e.persisted ? 'restored' : 'loaded'));
        document.addEventListener('visibilitychange', () => window.shown.push(document.visibilityState));
      });
      await openClient(bfcache.context, server, PATIENT, page);
      const { error } = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'when shown' }), url);
      assert.equal(error.kind, 'queued');
      assert.equal(server.requests('/visible').length, 1, 'waiting out a minute of backoff');
      await page.evaluate(() => { window.before = window.events.length; });

      await page.goto(`${server.url}/page/blank.html`);
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction(() => window.shown?.includes('restored'), null, { timeout: 10_000 });
      assert.deepEqual(await page.evaluate(() => window.shown), ['loaded', 'hidden', 'visible', 'restored'], 'the same page, shown again');
      await page.waitForFunction((k) => window.events.some((e) => e.event === 'settled' && e.key === k), error.key, { timeout: 10_000 });
      const after = await page.evaluate(() => window.events.slice(window.before).map((e) => e.event));
      assert.deepEqual(after.filter((e) => e !== 'retry'), ['attempt', 'settled'], 'resent once it was shown');
      const sent = server.requests('/visible');
      assert.equal(sent.length, 2);
      assert.equal(sent[1].key, error.key);
      assert.equal((await pageEvents(page, 'settled'))[0].status, 201);
      await page.close();
    }, { cacheControl: 'no-cache' });
  } finally {
    await bfcache.close();
  }
});
