// Fails (exit 1) when what a browser downloads for durafetch grows past the
// budget in size-budget.json: pkg/core_bg.wasm plus the default JS entry and
// the files it imports, each gzip -9. Raise the budget on purpose, in review.
// Usage: node bench/size-budget.js   (after make pkg)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sizesOfFiles } from './lib/compressed-size.js';

const PKG = new URL('../pkg/', import.meta.url);

/** browser.js (the "default" export), every module it imports, transitively,
 *  and the .wasm it fetches: what a browser downloads. */
function browserFiles() {
  const seen = new Set(['core_bg.wasm']);
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(new URL(file, PKG), 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(new URL(spec, new URL(file, PKG)).href.slice(PKG.href.length));
    }
  };
  visit('browser.js');
  return [...seen];
}

export const BUDGETED_FILES = (() => {
  try {
    return browserFiles();
  } catch {
    return ['core_bg.wasm', 'browser.js'];
  }
})();

export function measureBudgeted() {
  return sizesOfFiles(BUDGETED_FILES.map((f) => fileURLToPath(new URL(f, PKG))));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const budget = JSON.parse(readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8')).gzipBytes;
  let current;
  try {
    current = measureBudgeted().gzip;
  } catch (error) {
    console.error(`size budget: cannot read pkg/ (${error.message}); run make pkg first`);
    process.exit(1);
  }
  const line = `size budget: ${current} B gzip -9 (${BUDGETED_FILES.join(' + ')}) vs budget ${budget} B`;
  if (!(current <= budget)) {
    console.error(`${line}: OVER by ${current - budget} B (${((100 * (current - budget)) / budget).toFixed(1)}%).\n` +
      'Find what grew (bench/README.md: twiggy), shrink it, or raise bench/size-budget.json on purpose.');
    process.exit(1);
  }
  console.log(`${line}: ok, ${budget - current} B to spare`);
}
