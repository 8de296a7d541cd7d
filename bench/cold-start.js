// Cold start. Node: a fresh process per sample times `import` and the first
// `await createClient()` (for peers: import + building their client).
// Chromium: a new page per sample (own renderer process, HTTP cache off,
// on-disk profile) imports the library from 127.0.0.1 and builds a client.
// Samples interleave contenders. Prints one JSON line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsumers } from './lib/consumers.js';
import { launchChromium, freshPage } from './lib/chromium.js';
import { startStaticServer } from './lib/static-server.js';
import { median, round } from './lib/stats.js';

const NODE_SAMPLES = Number(process.env.BENCH_COLD_SAMPLES ?? 20);
const CHROMIUM_SAMPLES = Number(process.env.BENCH_COLD_SAMPLES ?? 15);
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

// [timed import, timed client construction], run as an ES module.
const NODE_CASES = {
  durafetch: ["const { createClient } = await import('durafetch');", 'await createClient();'],
  ky: ["const { default: ky } = await import('ky');", 'ky.create({ retry: { limit: 2 } });'],
  'cockatiel retry+breaker': ["const c = await import('cockatiel');",
    'c.wrap(c.retry(c.handleAll, { maxAttempts: 2, backoff: new c.ExponentialBackoff() }), ' +
    'c.circuitBreaker(c.handleAll, { halfOpenAfter: 10000, breaker: new c.ConsecutiveBreaker(5) }));'],
  'fetch-retry': ["const { default: fetchRetry } = await import('fetch-retry');", 'fetchRetry(fetch, { retries: 2 });'],
  'axios+axios-retry': [
    "const { default: axios } = await import('axios'); const { default: axiosRetry } = await import('axios-retry');",
    'axiosRetry(axios.create(), { retries: 2 });'],
};

/** Medians of { importMs, createMs } samples, and of their sums. */
function summarise(samples) {
  return Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, {
    importMs: round(median(list.map((s) => s.importMs)), 2),
    createMs: round(median(list.map((s) => s.createMs)), 2),
    totalMs: round(median(list.map((s) => s.importMs + s.createMs)), 2),
  }]));
}

function nodeSample([importCode, createCode]) {
  const script = `const t0 = performance.now(); ${importCode} const t1 = performance.now(); ${createCode}
    const t2 = performance.now(); console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1 }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: BENCH_DIR, encoding: 'utf8' }));
}

function nodeColdStart() {
  const samples = Object.fromEntries(Object.keys(NODE_CASES).map((name) => [name, []]));
  for (let i = 0; i < NODE_SAMPLES; i += 1) {
    for (const [name, code] of Object.entries(NODE_CASES)) samples[name].push(nodeSample(code));
  }
  return summarise(samples);
}

async function chromiumColdStart() {
  const { context, missing, version, close } = await launchChromium();
  if (!context) return { skipped: missing };
  const outDir = mkdtempSync(join(tmpdir(), 'durafetch-bench-'));
  const server = await startStaticServer({ '/durafetch/': join(BENCH_DIR, 'node_modules', 'durafetch'), '/bundles/': outDir });
  try {
    const bundles = await buildConsumers(outDir);
    // The pkg files as published (browser.js, client.js, core.js, .wasm), then
    // every consumer bundle, durafetch's included (workbox is for service workers).
    // The memory-store case splits IndexedDB's open from the wasm's load.
    const cases = {
      'durafetch (pkg files)': { src: '/durafetch/browser.js' },
      'durafetch (pkg files), store: memory': { src: '/durafetch/browser.js', options: { store: 'memory' } },
    };
    for (const [name, file] of Object.entries(bundles)) {
      if (name === 'workbox-background-sync') continue;
      cases[name === 'durafetch' ? 'durafetch (bundled)' : name] = { src: `/bundles/${basename(file)}` };
    }
    const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    for (let i = 0; i < CHROMIUM_SAMPLES; i += 1) {
      for (const [name, load] of Object.entries(cases)) {
        const page = await freshPage(context, `${server.origin}/index.html`);
        samples[name].push(await page.evaluate(async ({ src, options }) => {
          const t0 = performance.now();
          const lib = await import(src);
          const t1 = performance.now();
          if (lib.createClient) await lib.createClient(options); else await lib.setup();
          return { importMs: t1 - t0, createMs: performance.now() - t1 };
        }, load));
        await page.close();
      }
    }
    return { version, ...summarise(samples) };
  } finally {
    await close();
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

console.log(JSON.stringify({ node: nodeColdStart(), chromium: await chromiumColdStart() }));
