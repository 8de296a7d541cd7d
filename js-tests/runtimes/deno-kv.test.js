// The Deno KV store adapter (fixtures/deno-kv-store.js) in real Deno, across
// two processes that share one KV file: the first queues an order the
// origin drops, the second resends it with the same key. Deno 2.9 still
// needs --unstable-kv for Deno.openKv.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer } from './origin-server.js';
import { expectQueued, expectResumed } from './expect-resumed.js';
import { FIXTURES, PACKAGE_DIR, REPO, childTracker, lastJsonLine, requireBinary, requirePackage } from './processes.js';

let server;
let dir;
const children = childTracker();
before(async () => {
  requirePackage();
  // Deno's fetch resends once by itself after an unanswered close
  // (denoland/deno#35610): drop twice so that durafetch sees the failure.
  server = await startOriginServer({ dropsPerKey: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-deno-kv-'));
});
after(async () => {
  children.killAll();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One `deno run` of fixtures/deno-kv-main.js; its JSON report. */
async function denoStep(step) {
  const kvDir = path.join(dir, 'kv');
  const args = [
    'run', '--no-prompt', '--node-modules-dir=manual', '--unstable-kv',
    `--allow-read=${PACKAGE_DIR}durafetch.wasm,${dir}`,
    `--allow-write=${dir}`,
    `--allow-net=127.0.0.1:${server.port}`,
    `${FIXTURES}deno-kv-main.js`, step, `${kvDir}.sqlite`, server.ordersUrl,
  ];
  const env = { ...process.env, DENO_DIR: path.join(dir, 'deno-cache'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const { stdout } = await children.run(requireBinary('deno'), args, { cwd: REPO, env, timeoutMs: 30_000 });
  return lastJsonLine(stdout);
}

test('Deno KV: an order queued by one process is resent by the next', { timeout: 60_000 }, async () => {
  const queued = await denoStep('queue');
  const key = expectQueued(queued, server, 'adapter', 'Deno KV, first process');
  assert.deepEqual(queued.storedKeys, [['durafetch', key]], 'the record is in the KV file');

  // A record over KV's 64 KiB value limit: refused by the adapter, nothing sent.
  const { tooBig } = queued;
  assert.equal(tooBig.ok, false);
  assert.equal(tooBig.kind, 'storage', tooBig.message);
  assert.equal(tooBig.action, 'put');
  assert.match(tooBig.message, /nothing was sent: Deno KV values are limited to 64 KiB/);
  assert.equal(tooBig.pending, 1, 'only the queued order is stored');

  const resumed = await denoStep('resume');
  expectResumed(resumed, key, server, 'adapter', 'Deno KV, second process');
  assert.deepEqual(resumed.storedKeys, [], 'settled: removed from the KV file');
  assert.deepEqual(server.keys(), [key], 'the refused record never reached the origin');
});
