// Node 20+ ESM: `import 'durafetch'` picks node.js through the exports map.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOriginServer } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { FIXTURES, PACKAGE_DIR, childTracker, lastJsonLine, requirePackage } from './processes.js';

let server;
const children = childTracker();
before(async () => {
  requirePackage();
  server = await startOriginServer();
});
after(async () => {
  children.killAll();
  await server?.close();
});

test('Node ESM: keyed POST survives a dropped response (default and memory store)', { timeout: 60_000 }, async () => {
  const { stdout } = await children.run(process.execPath, [`${FIXTURES}cli-main.js`, server.ordersUrl], {
    timeoutMs: 30_000,
  });
  const report = lastJsonLine(stdout);
  assert.equal(report.entry, `file://${PACKAGE_DIR}node.js`);
  const first = expectSurvivedDrop(report.defaultStore, server, 'Node, default store');
  const second = expectSurvivedDrop(report.memoryStore, server, 'Node, memory store');
  assert.notEqual(first, second, 'each operation has its own key');
  assert.equal(server.totalEffects(), 2);
});
