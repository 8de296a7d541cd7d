// Browser pages that bundle durafetch: esbuild and Vite, each resolving the
// package through its exports map, run in headless Chromium against the
// origin that drops the first answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { browserEntry, buildWithEsbuild, buildWithVite } from './browser-builds.js';
import { launchChromium, runPageScenario, unexpectedLogs } from './chromium.js';
import { PACKAGE_DIR, requirePackage } from './processes.js';

let dir;
let server;
let browser;
let wasmSha256;
before(async () => {
  requirePackage();
  wasmSha256 = sha256(await readFile(`${PACKAGE_DIR}durafetch.wasm`));
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-bundlers-'));
  server = await startOriginServer({
    staticRoots: { '/esbuild/': path.join(dir, 'esbuild'), '/vite/': path.join(dir, 'vite') },
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('esbuild bundle in a page: keyed POST survives a dropped response', { timeout: 90_000 }, async () => {
  await buildWithEsbuild(path.join(dir, 'esbuild'));
  const { result, logs } = await runPageScenario(browser, `${server.origin}/esbuild/index.html`);
  expectSurvivedDrop(result, server, 'Chromium page, esbuild');
  assert.equal(result.scope, 'Window');
  assert.deepEqual(server.servedWasm(), [{ path: '/esbuild/durafetch.wasm', sha256: wasmSha256 }]);
  assert.deepEqual(unexpectedLogs(logs), []);
  expectTracedOnlyWithATracer(await runPageScenario(browser, `${server.origin}/esbuild/index.html`, 'durafetchTracedScenario'), /^\/esbuild\/tracing\.js$/);
});

test('Vite build in a page: keyed POST survives a dropped response', { timeout: 120_000 }, async () => {
  const before = server.servedWasm().length;
  const resolved = await buildWithVite(path.join(dir, 'vite'), path.join(dir, 'vite-cache'), '/vite/');
  assert.deepEqual(resolved, [`${PACKAGE_DIR}${browserEntry()}`], 'Vite took the browser entry');
  const { result, logs } = await runPageScenario(browser, `${server.origin}/vite/index.html`);
  expectSurvivedDrop(result, server, 'Chromium page, Vite');
  assert.equal(result.scope, 'Window');
  // Vite emitted the package's .wasm as a hashed asset: same bytes.
  const served = server.servedWasm().slice(before);
  assert.equal(served.length, 1);
  assert.match(served[0].path, /^\/vite\/assets\/durafetch-[\w-]+\.wasm$/);
  assert.equal(served[0].sha256, wasmSha256);
  assert.deepEqual(unexpectedLogs(logs), []);
  expectTracedOnlyWithATracer(await runPageScenario(browser, `${server.origin}/vite/index.html`, 'durafetchTracedScenario'), /^\/vite\/assets\/tracing-[\w-]+\.js$/);
});

/** The page fetched durafetch's tracing module only for the client given a
 *  tracer (`tracing` matches its path), and that client made a span per attempt. */
function expectTracedOnlyWithATracer({ result, logs }, tracing) {
  const fetched = server.served().filter((p) => tracing.test(p));
  assert.equal(fetched.length, 1, `the tracing module was fetched once, by the traced page: ${server.served().join(', ')}`);
  expectSurvivedDrop(result, server, 'a traced page');
  assert.deepEqual(result.spans.map((s) => [s.name, s.attributes['http.request.resend_count'] ?? null]), [['POST', null], ['POST', 1]]);
  assert.deepEqual(unexpectedLogs(logs), []);
}
