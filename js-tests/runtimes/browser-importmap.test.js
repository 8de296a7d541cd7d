// A browser page with no build step: `<script type="module">` plus an import
// map pointing `durafetch` at the installed package's browser entry, whose
// `new URL('./durafetch.wasm', import.meta.url)` finds the .wasm beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { browserEntry } from './browser-builds.js';
import { launchChromium, runPageScenario, unexpectedLogs } from './chromium.js';
import { FIXTURES, PACKAGE_DIR, requirePackage } from './processes.js';

let server;
let browser;
before(async () => {
  requirePackage();
  server = await startOriginServer({
    staticRoots: { '/node_modules/durafetch/': PACKAGE_DIR, '/fixtures/': FIXTURES },
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('import map page: keyed POST survives a dropped response', { timeout: 60_000 }, async () => {
  const html = await readFile(`${FIXTURES}page/importmap.html`, 'utf8');
  const importMap = JSON.parse(html.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1]);
  assert.equal(importMap.imports.durafetch, `/node_modules/durafetch/${browserEntry()}`,
    'the import map names the entry the exports map gives browsers');

  const { result, logs } = await runPageScenario(browser, `${server.origin}/fixtures/page/importmap.html`);
  expectSurvivedDrop(result, server, 'Chromium page, import map');
  assert.equal(result.scope, 'Window');
  const wasm = sha256(await readFile(`${PACKAGE_DIR}durafetch.wasm`));
  assert.deepEqual(server.servedWasm(), [{ path: '/node_modules/durafetch/durafetch.wasm', sha256: wasm }]);
  assert.deepEqual(unexpectedLogs(logs), []);
});
