// Memory after many completed operations (run with --expose-gc): the wasm
// linear memory (WebAssembly.Memory buffer, which can only grow, so any growth
// past warm-up is a high-water mark or a leak) and the JS heap, after a forced gc, at start, after 10,000 and after 20,000
// operations: a leak shows as growth between 10k and 20k. A stub fetch
// answers at once; every 10th call gets a 503, so retries run too.
// Prints one JSON line.
import { createClient } from 'durafetch';
import { round } from './lib/stats.js';
import { POST_BODY } from './lib/contenders.js';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

// The same module instance as the one durafetch's node.js entry loaded.
const { memoryBytes } = await import(new URL('./node_modules/durafetch/durafetch.js', import.meta.url));

let calls = 0;
const stubFetch = async () => {
  calls += 1;
  const status = calls % 10 === 0 ? 503 : 200;
  return new Response('{"ok":true}', { status, headers: { 'content-type': 'application/json' } });
};
const BATCH = 100; // operations in flight at once
const URL_ = 'http://127.0.0.1:9/orders';

async function runOperations(client, count) {
  for (let done = 0; done < count; done += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, (_, i) => (i % 2
      ? client.fetch(URL_)
      : client.fetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body: POST_BODY }))
      .then((res) => res.arrayBuffer())));
  }
}

async function snapshot() {
  for (let i = 0; i < 3; i += 1) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve)); // let FinalizationRegistry callbacks run
  }
  const usage = process.memoryUsage();
  return {
    wasmBytes: memoryBytes(),
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
  };
}

const client = await createClient({ fetch: stubFetch, store: 'memory', baseDelayMs: 1, maxDelayMs: 2, seed: 1 });
await runOperations(client, 200); // warm-up: JIT, first allocations
const start = await snapshot();
await runOperations(client, 10_000);
const after10k = await snapshot();
await runOperations(client, 10_000);
const after20k = await snapshot();
await client.close();

const kib = (bytes) => round(bytes / 1024, 1);
const view = (s) => ({ wasmKiB: kib(s.wasmBytes), heapKiB: kib(s.heapUsedBytes), externalKiB: kib(s.externalBytes) });
console.log(JSON.stringify({ operations: 20_000, fetchCalls: calls, start: view(start), after10k: view(after10k), after20k: view(after20k) }));
