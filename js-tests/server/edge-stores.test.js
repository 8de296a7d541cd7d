// The conformance suite in real edge runtimes, through the installed package:
// durableObjectStore in workerd (a Durable Object on localDisk storage) and
// denoKvStore in Deno (a KV file), plus HTTP through workerd and KV claims
// raced from several Deno processes at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CASES } from './fixtures/conformance.js';
import { askWorker, serveWorkerd } from '../runtimes/workerd-run.js';
import { PACKAGE_DIR, REPO, childTracker, lastJsonLine, requireBinary, requirePackage } from '../runtimes/processes.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const children = childTracker();
let dir;
before(async () => {
  requirePackage();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-server-edge-'));
});
after(async () => {
  children.killAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function assertConformance(results, where) {
  assert.equal(results.length, CASES.length, `${where}: every case ran`);
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], failed.map((f) => `${where}: ${f.name}: ${f.error}`).join('\n\n'));
}

function workerdConfig({ storageDir }) {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "do-disk", disk = (path = "${storageDir}", writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "server_bg.wasm", wasm = embed "server_bg.wasm"),
  ],
  bindings = [ (name = "ORDERS", durableObjectNamespace = "Orders") ],
  durableObjectNamespaces = [ (className = "Orders", uniqueKey = "durafetch-server-test-Orders") ],
  durableObjectStorage = (localDisk = "do-disk"),
  compatibilityDate = "2025-06-01",
);
`;
}

test('workerd: conformance of durableObjectStore in a Durable Object, and idempotent() as fetch', { timeout: 120_000 }, async () => {
  const workerd = requireBinary('workerd');
  const out = path.join(dir, 'workerd');
  const storageDir = path.join(out, 'do-storage');
  await mkdir(storageDir, { recursive: true });
  // Bundled as wrangler does: conditions workerd/worker/browser, the .wasm kept as a module import.
  const bundle = await build({
    entryPoints: [path.join(FIXTURES, 'workerd-worker.js')], absWorkingDir: REPO, bundle: true, format: 'esm',
    platform: 'browser', conditions: ['workerd', 'worker', 'browser'], external: ['*.wasm'],
    outfile: path.join(out, 'worker.js'), metafile: true, logLevel: 'warning',
  });
  const inputs = Object.keys(bundle.metafile.inputs);
  assert.ok(inputs.includes('node_modules/durafetch/server/workerd.js'), `the exports map gave server/workerd.js: ${inputs}`);
  assert.ok(!inputs.some((i) => i.endsWith('durafetch/client.js')), 'no client code in a server bundle');
  await copyFile(path.join(PACKAGE_DIR, 'server', 'server_bg.wasm'), path.join(out, 'server_bg.wasm'));
  await writeFile(path.join(out, 'config.capnp'), workerdConfig({ storageDir }));

  const { run, port } = await serveWorkerd(children, workerd, out);
  assertConformance(await askWorker(run, port, '/conformance'), 'workerd Durable Object');

  // Over HTTP: 8 concurrent requests with one key, then a resend.
  const url = `http://127.0.0.1:${port}/orders`;
  const send = () => fetch(url, { method: 'POST', headers: { 'idempotency-key': 'order-1', 'content-type': 'application/json' }, body: '{"item":"tea"}' });
  // A request that arrives after the first one answered (a slow machine) gets its replay: a 201 too.
  const answers = await Promise.all(Array.from({ length: 8 }, () => send().then(async (r) => ({
    status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', body: await r.text() }))));
  const outcomes = answers.map((a) => (a.replayed ? 'replay' : a.status)).sort();
  assert.equal(answers.filter((a) => a.status === 201 && !a.replayed).length, 1, `one ran: ${outcomes}`);
  assert.ok(answers.every((a) => a.status === 409 || (a.status === 201 && a.body === answers.find((b) => b.status === 201 && !b.replayed).body)),
    `the rest were 409 or the same answer: ${outcomes}`);
  const replay = await send();
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await replay.json(), { order: { item: 'tea' }, effect: 1 });
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/effects`)).json(), { effects: 1 });
  const worker = await fetch(`http://127.0.0.1:${port}/worker`, { method: 'POST', headers: { 'idempotency-key': 'w' } });
  assert.equal(worker.status, 201, 'idempotent() as the Worker\'s own fetch');
  await worker.text();
});

function deno(args, timeoutMs = 60_000) {
  const env = { ...process.env, DENO_DIR: path.join(dir, 'deno-cache'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const wasm = path.join(PACKAGE_DIR, 'server', 'server_bg.wasm');
  return children.run(requireBinary('deno'), [
    'run', '--no-prompt', '--node-modules-dir=manual', '--unstable-kv',
    `--allow-read=${wasm},${dir}`, `--allow-write=${dir}`,
    path.join(FIXTURES, 'deno-kv-conformance.js'), ...args,
  ], { cwd: REPO, env, timeoutMs });
}

test('Deno: conformance of denoKvStore on a KV file', { timeout: 120_000 }, async () => {
  const { stdout } = await deno(['conformance', path.join(dir, 'conformance.sqlite')]);
  assertConformance(lastJsonLine(stdout), 'Deno KV');
});

test('Deno: 3 processes claim the same 20 keys 8 times each at once: each key is won once', { timeout: 120_000 }, async () => {
  const file = path.join(dir, 'race.sqlite');
  await deno(['race', file, '0']); // creates the database before the race
  const reports = await Promise.all([1, 2, 3].map(() => deno(['race', file, '20']).then((r) => lastJsonLine(r.stdout))));
  const won = reports.flatMap((r) => r.won).sort((a, b) => a - b);
  assert.deepEqual(won, Array.from({ length: 20 }, (_, k) => k), `each key won exactly once: ${JSON.stringify(reports)}`);
});
