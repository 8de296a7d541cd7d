// durafetch inside a dedicated worker and a service worker (Chromium), both
// bundled by esbuild from the installed package. http://127.0.0.1 is a
// secure context, so the service worker registers without TLS. In both, the
// default store ('auto') is the IndexedDB outbox: a keyed POST is stored
// before it is sent (read from the page while the origin holds the first
// attempt), and the service worker resumes a queued one after a restart.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { expectQueued, expectResumed } from './expect-resumed.js';
import { buildWithEsbuild } from './browser-builds.js';
import { launchChromium } from './chromium.js';
import { ORDER } from './fixtures/scenario.js';
import { PACKAGE_DIR, requirePackage } from './processes.js';
import { readRecord } from '../record-bytes.js';

let dir;
let server;
let browser;
let page;
before(async () => {
  requirePackage();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-workers-'));
  await buildWithEsbuild(dir);
  server = await startOriginServer({ staticRoots: { '/app/': dir } });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.goto(`${server.origin}/app/workers.html`);
  await page.waitForFunction(() => globalThis.workersPageReady === true, null, { timeout: 15_000 });
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const context = (where) => `${where}\nerrors seen by the browser: ${browser.errors.join('\n') || 'none'}`;
/** The outbox's operations as the core would read them (kept answers aside). */
const readOutbox = async () => {
  const values = await page.evaluate(() => globalThis.readOutbox());
  return values?.filter((v) => !v.kept).map((v) => ({ ...readRecord(v.data), dataType: v.dataType }));
};

/** Every .wasm the workers fetched is the package's own. */
async function expectPackageWasm() {
  const wasm = sha256(await readFile(`${PACKAGE_DIR}durafetch.wasm`));
  assert.ok(server.servedWasm().length > 0);
  for (const served of server.servedWasm()) assert.deepEqual(served, { path: '/app/durafetch.wasm', sha256: wasm });
}

/**
 * Runs `send()` (a keyed POST to /orders/held from a worker) and, while the
 * origin holds its first attempt, reads the IndexedDB outbox from the page:
 * the record must be there already, untried. Then the origin drops that
 * attempt and the call must survive it like every runtime's.
 */
async function expectStoredWhileInFlight(send, where) {
  const reply = send();
  reply.catch(() => {}); // awaited below; a failure before that must not go unhandled
  const [key] = await server.waitForHeld(1);
  const records = await readOutbox();
  server.releaseHeld();
  assert.equal(records?.length, 1, `${where}: one record in the outbox during the first attempt`);
  const [record] = records;
  assert.equal(record.key, key, `${where}: stored under the key the origin got`);
  assert.equal(record.attempts, 0, `${where}: stored before any attempt ended`);
  assert.equal(record.method, 'POST');
  assert.equal(record.url, server.heldOrdersUrl);
  assert.equal(record.dataType, 'Uint8Array', `${where}: stored as the core's bytes`);
  assert.equal(new TextDecoder().decode(record.body), JSON.stringify(ORDER));
  assert.deepEqual(record.headers, [['content-type', 'application/json']], `${where}: the key header is not stored`);

  const result = await reply;
  assert.equal(expectSurvivedDrop(result, server, context(where)), key);
  assert.equal(result.store, 'indexeddb', `${where}: 'auto' picked IndexedDB`);
  // Reported first, deleted right after (with other writes when there are any).
  const until = Date.now() + 5_000;
  while ((await readOutbox()).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await readOutbox(), [], `${where}: settled, so removed`);
  return result;
}

test('dedicated worker: keyed POST survives a dropped response, stored in IndexedDB first', { timeout: 60_000 }, async () => {
  const send = () => page.evaluate((url) => globalThis.runInDedicatedWorker(url), server.heldOrdersUrl);
  const result = await expectStoredWhileInFlight(send, 'dedicated worker');
  assert.equal(result.scope, 'DedicatedWorkerGlobalScope');
  await expectPackageWasm();
});

describe('service worker', () => {
  /** Sends `message` to the page's service worker and returns its reply. */
  const askServiceWorker = (message) => page.evaluate((m) => globalThis.askServiceWorker(m), message);

  test('keyed POST survives a dropped response, stored in IndexedDB first', { timeout: 60_000 }, async () => {
    const send = () => askServiceWorker({ check: 'keyed-post', ordersUrl: server.heldOrdersUrl });
    const result = await expectStoredWhileInFlight(send, 'service worker');
    assert.equal(result.scope, 'ServiceWorkerGlobalScope');
    await expectPackageWasm();
  });

  test('a queued POST is resent with its key after the worker is stopped and woken', { timeout: 60_000 }, async () => {
    const queued = await askServiceWorker({ check: 'queue', ordersUrl: server.ordersUrl });
    const key = expectQueued(queued, server, 'indexeddb', context('service worker, first run'));
    const stored = await readOutbox();
    assert.deepEqual(stored.map((r) => [r.key, r.attempts]), [[key, 1]], 'the queued record is in IndexedDB');

    await stopServiceWorkers();
    const resumed = await askServiceWorker({ check: 'resume' });
    assert.notEqual(resumed.instance, queued.instance, 'a new run of the service worker answered');
    expectResumed(resumed, key, server, 'indexeddb', context('service worker, after a restart'));
    assert.deepEqual(await readOutbox(), [], 'settled, so removed');
  });
});

/** Stops every service worker through the DevTools protocol, as the browser does when idle. */
async function stopServiceWorkers() {
  const cdp = await browser.context.newCDPSession(page);
  try {
    const status = new Map(); // versionId -> runningStatus
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      for (const v of versions) status.set(v.versionId, v.runningStatus);
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const end = Date.now() + 10_000;
    const allStopped = () => status.size > 0 && [...status.values()].every((s) => s === 'stopped');
    while (!allStopped()) {
      if (Date.now() > end) throw new Error(`service workers not stopped: ${JSON.stringify([...status])}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await cdp.detach();
  }
}
