// Sizes: durafetch's package files and a minified esbuild bundle of a tiny
// consumer of each library, raw / gzip -9 / brotli, all measured in this run.
// durafetch's bundle keeps the .wasm as a separate asset, so its total adds
// core_bg.wasm. Prints one JSON line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsumers } from './lib/consumers.js';
import { sizesOf, sizesOfFiles } from './lib/compressed-size.js';
import { BUDGETED_FILES } from './size-budget.js';

// The installed tarball: the same files as pkg/ and the same build as the bundles.
const PKG = fileURLToPath(new URL('./node_modules/durafetch/', import.meta.url));
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

const files = {};
for (const name of ['core_bg.wasm', 'durafetch.js', 'browser.js', 'node.js']) {
  files[name] = sizesOf(readFileSync(join(PKG, name)));
}
files['browser download: ' + BUDGETED_FILES.join(' + ')] = sizesOfFiles(BUDGETED_FILES.map((f) => join(PKG, f)));

const outDir = mkdtempSync(join(tmpdir(), 'durafetch-bench-size-'));
const bundles = {};
try {
  const built = await buildConsumers(outDir);
  for (const [name, file] of Object.entries(built)) bundles[name] = sizesOf(readFileSync(file));
  bundles['durafetch JS + wasm'] = add(bundles.durafetch, sizesOf(readFileSync(join(outDir, 'core_bg.wasm'))));
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ files, bundles }));
