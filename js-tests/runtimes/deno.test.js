// Deno 2 (the binary from the npm package `deno`): `import 'durafetch'`
// resolved from node_modules through the exports map's "deno" condition.
// No IndexedDB here; the default store and the memory store both work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { FIXTURES, PACKAGE_DIR, REPO, childTracker, lastJsonLine, requireBinary, requirePackage } from './processes.js';

let server;
let denoDir;
const children = childTracker();
before(async () => {
  requirePackage();
  // Deno's fetch resends once by itself after an unanswered close (denoland/deno#35610):
  // drop twice so that durafetch, not Deno, has to survive the lost answer.
  server = await startOriginServer({ dropsPerKey: 2 });
  denoDir = await mkdtemp(path.join(tmpdir(), 'durafetch-deno-'));
});
after(async () => {
  children.killAll();
  await server?.close();
  if (denoDir) await rm(denoDir, { recursive: true, force: true });
});

test('Deno: keyed POST survives a dropped response (default and memory store)', { timeout: 90_000 }, async () => {
  const deno = requireBinary('deno');
  const pkg = requirePackage();
  // Least privilege: read only the package's .wasm, talk only to the origin.
  const args = [
    'run', '--no-prompt', '--node-modules-dir=manual',
    `--allow-read=${PACKAGE_DIR}durafetch.wasm`,
    `--allow-net=127.0.0.1:${server.port}`,
    `${FIXTURES}cli-main.js`, server.ordersUrl,
  ];
  const env = { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const { stdout } = await children.run(deno, args, { cwd: REPO, env, timeoutMs: 60_000 });
  const report = lastJsonLine(stdout);
  const expected = pkg.exports['.'].deno.replace(/^\.\//, '');
  assert.equal(report.entry, `file://${PACKAGE_DIR}${expected}`, 'Deno took the "deno" entry');
  assert.equal(report.hasIndexedDB, false, 'Deno has no IndexedDB');
  const first = expectSurvivedDrop(report.defaultStore, server, 'Deno, default store');
  const second = expectSurvivedDrop(report.memoryStore, server, 'Deno, memory store');
  assert.notEqual(first, second, 'each operation has its own key');
  assert.equal(server.totalEffects(), 2);
});
