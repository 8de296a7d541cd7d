// What a page downloads for durafetch, measured the way it gets it: a small
// app bundled by esbuild (--minify, browser), plus every .wasm the bundle
// fetches (each `new URL('….wasm', import.meta.url)` it keeps), each file
// gzip -9 on its own as a server sends it. Three: a page that only retries
// and queues (`durafetch`), one that runs a workflow (`durafetch/workflows`),
// and a service worker that delivers with no page open (handleBackgroundSync).
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sizesOf } from './compressed-size.js';

export const PAGES = {
  'createClient + fetch': `import { createClient } from 'durafetch';
    const client = await createClient();
    const res = await client.fetch('/api/orders', { method: 'POST', body: JSON.stringify({ item: 'coffee' }) });
    console.log(res.status);`,
  'with workflows': `import { createClient } from 'durafetch/workflows';
    const client = await createClient({ workflows: {
      async checkout(step, input) {
        return step('charge', (fetch) => fetch('/api/charges', { method: 'POST', body: JSON.stringify(input) }));
      },
    } });
    const run = await client.start('checkout', { cart: 42 });
    console.log(await run.result());`,
  'service worker': `import { handleBackgroundSync } from 'durafetch';
    handleBackgroundSync({ beforeReplay: (request) => request.headers.set('authorization', 'Bearer t') });`,
};

/** Modules of the package a page of the lean module must never contain. */
const WORKFLOW_MODULES = ['workflow-client', 'run-host', 'runs.js', 'durafetch-workflows'];
/** The service worker's module: only a bundle that calls handleBackgroundSync has it. */
const SYNC_MODULE = 'background-sync.js';

/**
 * Bundles each page against the package in `packageDir` (pkg/ or an
 * installed copy). Returns { page: { js, wasm: [names], total: sizes } }.
 */
export async function measurePages(packageDir) {
  const dir = mkdtempSync(join(tmpdir(), 'durafetch-pages-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve(packageDir), join(dir, 'node_modules', 'durafetch'), 'dir');
    const pages = {};
    for (const [name, source] of Object.entries(PAGES)) {
      const slug = name.replace(/[^a-z]+/gi, '-');
      const entry = join(dir, `${slug}.src.js`);
      const outfile = join(dir, `${slug}.js`);
      writeFileSync(entry, source);
      const result = await build({
        entryPoints: [entry], outfile, bundle: true, minify: true, format: 'esm', platform: 'browser',
        target: 'es2022', absWorkingDir: dir, preserveSymlinks: true, metafile: true, logLevel: 'error',
      });
      const js = readFileSync(outfile);
      const inputs = Object.keys(result.metafile.inputs);
      // What reached the output (a module esbuild parsed and dropped is not in it).
      const [output] = Object.values(result.metafile.outputs);
      const bundled = Object.entries(output.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name);
      const wasm = [...js.toString().matchAll(/new URL\(["']\.\/([\w.-]+\.wasm)["']/g)].map((m) => m[1]);
      const entryFile = inputs.find((i) => /node_modules\/durafetch\/(workflows\/)?browser\.js$/.test(i));
      if (!entryFile) throw new Error(`${name}: the bundle did not take durafetch's browser entry (${inputs.join(', ')})`);
      const wasmFiles = wasm.map((w) => join(dir, dirname(entryFile), w));
      const total = sizesOf(js);
      for (const file of wasmFiles) {
        const one = sizesOf(readFileSync(file));
        for (const k of Object.keys(total)) total[k] += one[k];
      }
      pages[name] = { js: sizesOf(js), wasm, inputs, bundled, total };
    }
    const lean = pages['createClient + fetch'];
    const leaked = lean.inputs.filter((i) => WORKFLOW_MODULES.some((m) => i.includes(m))).concat(lean.wasm.filter((w) => w.includes('workflows')));
    if (leaked.length) throw new Error(`the lean page pulled workflow code: ${leaked.join(', ')}`);
    const synced = Object.entries(pages).filter(([, p]) => p.bundled.some((i) => i.endsWith(SYNC_MODULE))).map(([n]) => n);
    if (synced.join() !== 'service worker') throw new Error(`only the service worker bundles ${SYNC_MODULE}: ${synced}`);
    if (lean.wasm.length !== 1 || pages['with workflows'].wasm.length !== 1) {
      throw new Error(`each page fetches one .wasm: ${lean.wasm} / ${pages['with workflows'].wasm}`);
    }
    return pages;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
