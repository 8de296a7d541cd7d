// Bundling a worker the way wrangler does, and running `workerd serve` on it.
// esbuild with the conditions workerd, worker, browser (so the exports map
// picks workerd.js) and the .wasm kept as a WebAssembly module import
// (workerd refuses to compile wasm from bytes at run time).
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { FIXTURES, PACKAGE_DIR, REPO } from './processes.js';

/** Bundles `fixtures/<entry>` into `dir`/worker.js beside the package's .wasm. */
export async function bundleForWorkerd(entry, dir) {
  const bundle = await build({
    entryPoints: [`${FIXTURES}${entry}`],
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
  // `durafetch` (the lean module) or `durafetch/workflows` (the full one): one of them, never both.
  const lean = inputs.includes('node_modules/durafetch/workerd.js');
  const full = inputs.includes('node_modules/durafetch/workflows/workerd.js');
  assert.ok(lean !== full, `the exports map gave one workerd.js: ${inputs}`);
  const wasm = lean ? 'durafetch.wasm' : 'workflows/durafetch-workflows.wasm';
  await copyFile(`${PACKAGE_DIR}${wasm}`, path.join(dir, path.basename(wasm)));
  return { bundle: 'worker.js', wasm: path.basename(wasm) };
}

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

/** Starts `workerd serve config.capnp` in `dir`; returns the run and its port. */
export async function serveWorkerd(children, workerd, dir) {
  const run = children.start(workerd, ['serve', 'config.capnp', '--control-fd=3'], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], timeoutMs: 60_000,
  });
  const port = await Promise.race([
    listeningPort(run.child.stdio[3], 30_000),
    run.done.then((exit) => { throw new Error(`workerd exited ${exit.code}:\n${exit.stderr}`); }),
  ]);
  return { run, port };
}

/** GET `path` from the worker; the parsed JSON report. */
export async function askWorker(run, port, path) {
  const answer = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(30_000) });
  const text = await answer.text();
  assert.equal(answer.status, 200, `the worker answered ${path}: ${text}\n${run.output().stderr}`);
  return JSON.parse(text);
}
