// Cloudflare workerd (the binary from the npm package `workerd`). The worker
// is bundled the way wrangler bundles one (see workerd-run.js). No IndexedDB
// here; default and memory stores work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { workerdConfig } from './workerd-config.js';
import { askWorker, bundleForWorkerd, serveWorkerd } from './workerd-run.js';
import { PACKAGE_DIR, childTracker, requireBinary, requirePackage } from './processes.js';

let server;
let dir;
const children = childTracker();
before(async () => {
  requirePackage();
  server = await startOriginServer();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-workerd-'));
});
after(async () => {
  children.killAll();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('workerd: keyed POST survives a dropped response inside a request', { timeout: 90_000 }, async () => {
  const workerd = requireBinary('workerd');
  const files = await bundleForWorkerd('workerd-worker.js', dir);
  const code = await readFile(path.join(dir, files.bundle), 'utf8');
  // workerd itself refuses wasm compiled from bytes, so the run below proves the rest.
  assert.match(code, /from "\.\/durafetch\.wasm"/, 'the .wasm stays a module import');
  await writeFile(path.join(dir, 'config.capnp'),
    workerdConfig({ ...files, origin: server.origin, compatibilityDate: '2025-06-01' }));

  const { run, port } = await serveWorkerd(children, workerd, dir);
  const report = await askWorker(run, port, '/');

  assert.equal(report.hasIndexedDB, false, 'workerd has no IndexedDB');
  const first = expectSurvivedDrop(report.defaultStore, server, 'workerd, default store');
  const second = expectSurvivedDrop(report.memoryStore, server, 'workerd, memory store');
  assert.notEqual(first, second, 'each operation has its own key');
  assert.equal(server.totalEffects(), 2);
  assert.equal(sha256(await readFile(path.join(dir, 'durafetch.wasm'))),
    sha256(await readFile(`${PACKAGE_DIR}durafetch.wasm`)), 'the package\'s own .wasm');
});
