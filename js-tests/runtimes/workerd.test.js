// Cloudflare workerd (the binary from the npm package `workerd`). The worker
// is bundled the way wrangler bundles one: esbuild with the conditions
// workerd, worker, browser, so the exports map picks workerd.js, and the
// .wasm kept as a WebAssembly module import (workerd refuses to compile wasm
// from bytes at run time). No IndexedDB here; default and memory stores work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { startOriginServer, sha256 } from './origin-server.js';
import { expectSurvivedDrop } from './expect-survived-drop.js';
import { workerdConfig } from './workerd-config.js';
import { FIXTURES, PACKAGE_DIR, REPO, childTracker, requireBinary, requirePackage } from './processes.js';

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

/** Resolves with the port workerd reports on its control fd once it listens. */
function listeningPort(control, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${ms} ms`)), ms);
    let buffered = '';
    control.on('data', (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        let message;
        try { message = JSON.parse(line); } catch { continue; }
        if (message.event === 'listen' && message.socket === 'http') {
          clearTimeout(timer);
          resolve(message.port);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
}

test('workerd: keyed POST survives a dropped response inside a request', { timeout: 90_000 }, async () => {
  const workerd = requireBinary('workerd');
  const bundle = await build({
    entryPoints: [`${FIXTURES}workerd-worker.js`],
    absWorkingDir: REPO,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['*.wasm'],
    outfile: path.join(dir, 'worker.js'),
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(bundle.metafile.inputs);
  assert.ok(inputs.includes('node_modules/durafetch/workerd.js'), `the exports map gave workerd.js: ${inputs}`);
  const code = await readFile(path.join(dir, 'worker.js'), 'utf8');
  // workerd itself refuses wasm compiled from bytes, so the run below proves the rest.
  assert.match(code, /from "\.\/core_bg\.wasm"/, 'the .wasm stays a module import');

  await copyFile(`${PACKAGE_DIR}core_bg.wasm`, path.join(dir, 'core_bg.wasm'));
  const config = workerdConfig({
    bundle: 'worker.js', wasm: 'core_bg.wasm', origin: server.origin, compatibilityDate: '2025-06-01',
  });
  await writeFile(path.join(dir, 'config.capnp'), config);

  const run = children.start(workerd, ['serve', 'config.capnp', '--control-fd=3'], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], timeoutMs: 60_000,
  });
  const port = await Promise.race([
    listeningPort(run.child.stdio[3], 30_000),
    run.done.then((exit) => { throw new Error(`workerd exited ${exit.code}:\n${exit.stderr}`); }),
  ]);
  const answer = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
  const text = await answer.text();
  assert.equal(answer.status, 200, `the worker answered: ${text}\n${run.output().stderr}`);
  const report = JSON.parse(text);

  assert.equal(report.hasIndexedDB, false, 'workerd has no IndexedDB');
  const first = expectSurvivedDrop(report.defaultStore, server, 'workerd, default store');
  const second = expectSurvivedDrop(report.memoryStore, server, 'workerd, memory store');
  assert.notEqual(first, second, 'each operation has its own key');
  assert.equal(server.totalEffects(), 2);
  assert.equal(sha256(await readFile(path.join(dir, 'core_bg.wasm'))),
    sha256(await readFile(`${PACKAGE_DIR}core_bg.wasm`)), 'the package\'s own .wasm');
});
