// Sizes as a page gets them: durafetch's two pages (bench/lib/page-size.js:
// an esbuild --minify bundle of a small app plus the .wasm it fetches) against
// the installed tarball, each checked against bench/size-budget.json; the
// package's files on their own; and a minified bundle of a tiny consumer of
// each peer. raw / gzip -9 / brotli, all measured in this run. Prints one JSON line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsumers } from './lib/consumers.js';
import { sizesOf } from './lib/compressed-size.js';
import { measurePages } from './lib/page-size.js';

// The installed tarball: the same files as pkg/.
const PKG = fileURLToPath(new URL('./node_modules/durafetch/', import.meta.url));
const budgets = JSON.parse(readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8')).gzipBytes;

const files = {};
for (const name of ['durafetch.wasm', 'durafetch.js', 'workflows/durafetch-workflows.wasm', 'workflows/durafetch.js']) {
  files[name] = sizesOf(readFileSync(join(PKG, name)));
}

const pages = {};
for (const [name, page] of Object.entries(await measurePages(PKG))) {
  pages[name] = { js: page.js, wasm: page.wasm, total: page.total, budget: budgets[name] };
}

const outDir = mkdtempSync(join(tmpdir(), 'durafetch-bench-size-'));
const bundles = {};
try {
  const built = await buildConsumers(outDir);
  for (const [name, file] of Object.entries(built)) if (name !== 'durafetch') bundles[name] = sizesOf(readFileSync(file));
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ files, pages, bundles }));
