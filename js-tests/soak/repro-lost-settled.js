// Minimal reproduction of a bug the soak found (run: node js-tests/soak/repro-lost-settled.js):
// a durable call whose page is reloaded just after the server's definitive
// answer can end with its outbox record deleted and NO 'settled' event
// anywhere: not in the dying page (the delete's 'complete' never reached it),
// not in the new page (there is no record left to resend).
//
// Each trial: one durable POST; when the server gets it, the test reloads the
// page; the server holds the new document, sends 201, and releases the
// document `gapMs` later, so the old page's delete races the navigation.
// Not a *.test.js: it reports what happened, it does not gate `make test`.
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_DIR } from '../browser/harness.js';
import { launchContext, SoakTab } from './tabs.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const GAPS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20];
const ROUNDS = Number(process.env.REPRO_ROUNDS ?? 3);

// Notes, where they outlive the page, when durafetch's outbox delete was
// issued and when its transaction completed.
const INSTRUMENT = () => {
  const del = IDBObjectStore.prototype.delete;
  IDBObjectStore.prototype.delete = function (key) {
    const req = del.call(this, key);
    if (this.name === 'outbox') {
      localStorage.setItem(`delete-issued:${key}`, '1');
      this.transaction.addEventListener('complete', () => localStorage.setItem(`delete-complete:${key}`, '1'));
    }
    return req;
  };
};

let onOrder = async () => {};
let heldPage = null;
const effects = new Map();
const server = http.createServer((req, res) => {
  res.setHeader('connection', 'close');
  const path = req.url.split('?')[0];
  if (path.startsWith('/pkg/')) return void res.writeHead(200, { 'content-type': path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(readFileSync(join(PACKAGE_DIR, path.slice(5))));
  if (path === '/soak/page.html') {
    const send = () => res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(readFileSync(join(HERE, 'page.html')));
    if (heldPage) heldPage.resolve(send);
    else send();
    return;
  }
  if (req.method !== 'POST' || path !== '/orders') return void res.writeHead(404).end();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const key = req.headers['idempotency-key'];
    const first = !effects.has(key); // a deduplicating server: the first request applies
    if (first) effects.set(key, 1);
    const body = JSON.stringify({ key, replay: !first, order: JSON.parse(Buffer.concat(chunks)).clientOrderId });
    if (first) await onOrder(() => res.writeHead(201, { 'content-type': 'application/json' }).end(body));
    else res.writeHead(201, { 'content-type': 'application/json' }).end(body);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const profile = mkdtempSync(join(tmpdir(), 'durafetch-repro-'));
const events = [];
const tab = new SoakTab(0, [], `${url}/soak/page.html?tab=0&o=${encodeURIComponent(JSON.stringify({ breaker: false, retryBudget: false }))}`, (e) => events.push(e));
const context = await launchContext(profile);
await context.addInitScript(INSTRUMENT);
const tally = {};
try {
  await tab.open(context);
  for (let round = 0; round < ROUNDS; round++) {
    for (const gapMs of GAPS) {
      const order = round * 100 + gapMs;
      let reloading;
      onOrder = async (answer) => {
        let release;
        heldPage = { resolve: (send) => release(send) };
        const pageRequested = new Promise((r) => { release = r; });
        reloading = tab.reload();
        const sendPage = await pageRequested; // the new document is requested: hold it
        heldPage = null;
        answer();
        await sleep(gapMs);
        sendPage();
      };
      await tab.page.evaluate((o) => { window.soakSend({ clientOrderId: o }); }, order);
      while (!reloading) await sleep(5);
      await reloading;
      await sleep(1500); // the new page's forced resend pass, if there is a record
      const key = [...effects.keys()].at(-1);
      const notes = await tab.page.evaluate((k) => ({
        issued: !!localStorage.getItem(`delete-issued:${k}`),
        completed: !!localStorage.getItem(`delete-complete:${k}`),
        settled: localStorage.getItem(`settled:${k}`),
      }), key);
      const outbox = await tab.page.evaluate(() => window.outboxOrders());
      const seen = events.filter((e) => e.type === 'settled' && e.key === key);
      const verdict = seen.length > 0 || notes.settled ? `settled-${seen[0]?.resumed || notes.settled === 'resumed' ? 'resumed' : 'live'}`
        : outbox.length > 0 ? 'still-stored' : 'LOST: record deleted, no settled event';
      tally[verdict] = (tally[verdict] ?? 0) + 1;
      if (verdict.startsWith('LOST')) {
        console.log(`gapMs=${gapMs} key=${key} effects=${effects.get(key)} deleteIssued=${notes.issued} ` +
          `deleteCompleteSeen=${notes.completed} events=${JSON.stringify(events.filter((e) => e.key === key).map((e) => e.type))}`);
      }
    }
  }
  console.log('trials by outcome:', JSON.stringify(tally));
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
