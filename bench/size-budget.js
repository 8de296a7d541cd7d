// Fails (exit 1) when what a page downloads for durafetch grows past its
// budget in size-budget.json: a minified esbuild bundle of a small app plus
// the .wasm it fetches, gzip -9 (bench/lib/page-size.js), for a page that only
// retries and queues, one that runs workflows, and a service worker that
// delivers with no page open; and when a page that does not call
// handleBackgroundSync bundles its module. Raise a budget on purpose, in
// review. Usage: node bench/size-budget.js   (after make pkg)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { measurePages } from './lib/page-size.js';

const PKG = fileURLToPath(new URL('../pkg/', import.meta.url));
const budgets = JSON.parse(readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8'));

let pages;
try {
  pages = await measurePages(PKG);
} catch (error) {
  console.error(`size budget: ${error.message} (run make pkg first)`);
  process.exit(1);
}
let over = false;
for (const [page, budget] of Object.entries(budgets.gzipBytes)) {
  const { total, js, wasm } = pages[page];
  const line = `size budget, ${page}: ${total.gzip} B gzip -9 (bundle ${js.gzip} B + ${wasm.join(' + ')}) vs budget ${budget} B`;
  if (total.gzip <= budget) {
    console.log(`${line}: ok, ${budget - total.gzip} B to spare`);
  } else {
    over = true;
    console.error(`${line}: OVER by ${total.gzip - budget} B (${((100 * (total.gzip - budget)) / budget).toFixed(1)}%).`);
  }
}
if (over) {
  console.error('Find what grew (bench/README.md: twiggy), shrink it, or raise bench/size-budget.json on purpose.');
  process.exit(1);
}
