// durafetch inside a dedicated worker and a service worker (Chromium), both
// bundled by esbuild from the installed package. http://127.0.0.1 is a
// secure context, so the service worker registers without TLS.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { buildWithEsbuild } from './browser-builds.js';
import { launchChromium } from './chromium.js';
import { PACKAGE_DIR, requirePackage } from './processes.js';

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

/** Every .wasm the workers fetched is the package's own. */
async function expectPackageWasm() {
  const wasm = sha256(await readFile(`${PACKAGE_DIR}core_bg.wasm`));
  assert.ok(server.servedWasm().length > 0);
  for (const served of server.servedWasm()) assert.deepEqual(served, { path: '/app/core_bg.wasm', sha256: wasm });
}

test('dedicated worker: keyed POST survives a dropped response', { timeout: 60_000 }, async () => {
  const ordersUrl = `${server.origin}/orders`;
  const result = await page.evaluate((url) => globalThis.runInDedicatedWorker(url), ordersUrl);
  expectSurvivedDrop(result, server, context('dedicated worker'));
  assert.equal(result.scope, 'DedicatedWorkerGlobalScope');
  await expectPackageWasm();
});

describe('service worker', () => {
  /** Sends `message` to the page's service worker and returns its reply. */
  const askServiceWorker = (message) => page.evaluate((m) => globalThis.askServiceWorker(m), message);

  test('keyed POST survives a dropped response', { timeout: 60_000 }, async () => {
    const result = await askServiceWorker({ check: 'keyed-post', ordersUrl: `${server.origin}/orders` });
    expectSurvivedDrop(result, server, context('service worker'));
    assert.equal(result.scope, 'ServiceWorkerGlobalScope');
    await expectPackageWasm();
  });

  // Next, once the IndexedDB outbox lands: askServiceWorker({ check: 'outbox', ... }).
});
