// Tiny consumer apps, one per library, each exporting `setup()` that builds a
// retrying fetch the way the library's docs show. Bundled with esbuild
// (minified, browser) so sizes and Chromium cold starts compare like with like.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export const CONSUMERS = {
  durafetch: `import { createClient } from 'durafetch';
    export async function setup() { const client = await createClient(); return (url, init) => client.fetch(url, init); }`,
  ky: `import ky from 'ky';
    export async function setup() { const api = ky.create({ retry: { limit: 2 } }); return (url, init) => api(url, init); }`,
  'cockatiel retry+breaker': `import { retry, circuitBreaker, wrap, handleAll, ExponentialBackoff, ConsecutiveBreaker } from 'cockatiel';
    export async function setup() {
      const policy = wrap(retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
        circuitBreaker(handleAll, { halfOpenAfter: 10000, breaker: new ConsecutiveBreaker(5) }));
      return (url, init) => policy.execute(() => fetch(url, init));
    }`,
  'fetch-retry': `import fetchRetry from 'fetch-retry';
    export async function setup() { const f = fetchRetry(fetch, { retries: 2, retryDelay: 100 }); return (url, init) => f(url, init); }`,
  'axios+axios-retry': `import axios from 'axios'; import axiosRetry from 'axios-retry';
    export async function setup() { const api = axios.create(); axiosRetry(api, { retries: 2 }); return (url) => api.get(url); }`,
  // Meant for service workers: queue a request that failed, replay on 'sync'.
  'workbox-background-sync': `import { Queue } from 'workbox-background-sync';
    export async function setup() {
      const queue = new Queue('outbox');
      return (url, init) => fetch(url, init).catch(async (error) => { await queue.pushRequest({ request: new Request(url, init) }); throw error; });
    }`,
};

/** Bundles every consumer into `outDir`; returns { name: bundleFile }. The
 * durafetch bundle keeps `new URL('./durafetch.wasm', import.meta.url)`, so
 * the .wasm is copied beside it. */
export async function buildConsumers(outDir) {
  mkdirSync(join(outDir, 'src'), { recursive: true });
  const files = {};
  for (const [name, source] of Object.entries(CONSUMERS)) {
    const slug = name.replace(/[^a-z]+/gi, '-');
    const entry = join(outDir, 'src', `${slug}.js`);
    writeFileSync(entry, source);
    files[name] = join(outDir, `${slug}.js`);
    await build({
      entryPoints: [entry], outfile: files[name], bundle: true, minify: true, format: 'esm',
      platform: 'browser', target: 'es2022', nodePaths: [join(BENCH_DIR, 'node_modules')], logLevel: 'error',
    });
  }
  const require = createRequire(join(BENCH_DIR, 'package.json'));
  copyFileSync(require.resolve('durafetch/durafetch.wasm'), join(outDir, 'durafetch.wasm'));
  return files;
}
