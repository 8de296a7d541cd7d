// The cost of durability in headless Chromium: a keyed POST persisted to
// IndexedDB before it is sent (and deleted on the answer), next to the same
// POST with the memory store and a raw fetch, in interleaved rounds against a
// same-origin server on 127.0.0.1. Prints "n/a (outbox not built)" when the
// client reports no IndexedDB persistence. Prints one JSON line.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { launchChromium, freshPage } from './lib/chromium.js';
import { startStaticServer } from './lib/static-server.js';
import { POST_BODY } from './lib/contenders.js';

const ROUNDS = Number(process.env.BENCH_DURABLE_ROUNDS ?? 10);
const PER_ROUND = 30;
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Runs in the page. */
async function measureInPage({ rounds, perRound, body }) {
  const { createClient } = await import('/durafetch/browser.js');
  let durable;
  try {
    durable = await createClient({ store: 'indexeddb' });
  } catch (error) {
    return { na: `createClient({ store: 'indexeddb' }) threw ${error.kind ?? error.name}` };
  }
  const selected = await new Promise((resolve) => {
    durable.on('store', (event) => { if (event.type === 'selected') resolve(event); });
    setTimeout(() => resolve(null), 1000);
  });
  const persistent = selected ? selected.persistent === true && selected.store === 'indexeddb' : durable.store === 'indexeddb';
  if (!persistent) return { na: 'outbox not built' };
  const memory = await createClient({ store: 'memory' });
  const init = (extra) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body, ...extra });
  const contenders = {
    raw: () => fetch('/api/orders', init()),
    'durafetch keyed POST, memory store': () => memory.fetch('/api/orders', init()),
    'durafetch durable POST, IndexedDB': () => durable.fetch('/api/orders', init({ durable: true })),
  };
  // One durable call first: it must leave a database behind, else nothing persisted.
  await (await contenders['durafetch durable POST, IndexedDB']()).arrayBuffer();
  if ((await indexedDB.databases()).length === 0) return { na: 'outbox not built (no IndexedDB database written)' };
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds + 1; r += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + r) % names.length];
      for (let k = 0; k < perRound; k += 1) {
        const t0 = performance.now();
        await (await contenders[name]()).arrayBuffer();
        if (r > 0) samples[name].push(performance.now() - t0); // round 0 warms up
      }
    }
  }
  const median = (list) => Math.round(100 * list.sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]) / 100;
  const pending = (await durable.pending()).length;
  await durable.close();
  await memory.close();
  return { calls: rounds * perRound, pendingAfter: pending, ...Object.fromEntries(names.map((n) => [n, { p50Ms: median(samples[n]) }])) };
}

const { context, missing, version, close } = await launchChromium();
if (!context) {
  console.error(`durable: n/a (${missing})`);
  console.log(JSON.stringify({ na: missing }));
} else {
  const server = await startStaticServer({ '/durafetch/': join(BENCH_DIR, 'node_modules', 'durafetch') });
  try {
    const page = await freshPage(context, `${server.origin}/index.html`);
    const result = await page.evaluate(measureInPage, { rounds: ROUNDS, perRound: PER_ROUND, body: POST_BODY });
    if (result.na) console.error(`durable: n/a (${result.na})`);
    console.log(JSON.stringify({ version, ...result }));
  } finally {
    await close();
    await server.close();
  }
}
