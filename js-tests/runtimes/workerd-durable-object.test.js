// The Durable Object store adapter (fixtures/durable-object-store.js) in
// real workerd: a client inside the object queues an order the origin
// drops; workerd is stopped and started again on the same on-disk storage;
// a new client in the same object resends it with the same key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer } from './origin-server.js';
import { expectQueued, expectResumed } from './expect-resumed.js';
import { workerdConfig } from './workerd-config.js';
import { askWorker, bundleForWorkerd, serveWorkerd } from './workerd-run.js';
import { childTracker, requireBinary, requirePackage } from './processes.js';

let server;
let dir;
const children = childTracker();
before(async () => {
  requirePackage();
  server = await startOriginServer();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-workerd-do-'));
});
after(async () => {
  children.killAll();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('workerd: an order queued in a Durable Object is resent after a restart', { timeout: 60_000 }, async () => {
  const workerd = requireBinary('workerd');
  const files = await bundleForWorkerd('workerd-outbox-worker.js', dir);
  const storageDir = path.join(dir, 'do-storage');
  await mkdir(storageDir);
  const durableObject = { className: 'Outbox', binding: 'OUTBOX', storageDir };
  await writeFile(path.join(dir, 'config.capnp'),
    workerdConfig({ ...files, origin: server.origin, compatibilityDate: '2025-06-01', durableObject }));

  const first = await serveWorkerd(children, workerd, dir);
  const queued = await askWorker(first.run, first.port, '/queue');
  const key = expectQueued(queued, server, 'adapter', 'workerd, Durable Object');
  assert.deepEqual(queued.storedKeys, [`durafetch:${key}`], 'the record is in the object\'s storage');

  first.run.child.kill('SIGTERM');
  await first.run.done;
  const second = await serveWorkerd(children, workerd, dir);
  const resumed = await askWorker(second.run, second.port, '/resume');
  expectResumed(resumed, key, server, 'adapter', 'workerd, Durable Object after a restart');
  assert.deepEqual(resumed.storedKeys, [], 'settled: removed from storage');
  assert.deepEqual(server.keys(), [key]);
});
