// Reproduction of a busy loop the soak's code reading suggested (run: node
// js-tests/soak/repro-drain-spin.js): while tab A's live call holds the
// oldest outbox record's key lock, tab B's drainer rounds do not wait: each
// round lists the outbox, finds that record ready, fails to take its lock,
// and starts the next round at once (drain_round returns Some(now)).
// Counts tab B's IndexedDB getAll() calls while A's request is held 2 s.
// Not a *.test.js: it reports a figure, it does not gate `make test`.
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_DIR } from '../browser/harness.js';
import { launchContext, SoakTab } from './tabs.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOLD_MS = 2000;
const COUNT_GETALL = () => {
  window.getAllCalls = 0;
  const getAll = IDBObjectStore.prototype.getAll;
  IDBObjectStore.prototype.getAll = function (...args) {
    window.getAllCalls++;
    return getAll.apply(this, args);
  };
};

let requests = 0;
const server = http.createServer((req, res) => {
  res.setHeader('connection', 'close');
  const path = req.url.split('?')[0];
  if (path.startsWith('/pkg/')) return void res.writeHead(200, { 'content-type': path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(readFileSync(join(PACKAGE_DIR, path.slice(5))));
  if (path === '/soak/page.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(join(HERE, 'page.html')));
  if (path !== '/orders') return void res.writeHead(404).end();
  requests++;
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(201).end('{}'), HOLD_MS));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const profile = mkdtempSync(join(tmpdir(), 'durafetch-repro-'));
const page = (t) => `${url}/soak/page.html?tab=${t}&o=${encodeURIComponent(JSON.stringify({ breaker: false, retryBudget: false }))}`;
const context = await launchContext(profile);
await context.addInitScript(COUNT_GETALL);
try {
  const [a, b] = [new SoakTab('A', [], page('A'), () => {}), new SoakTab('B', [], page('B'), () => {})];
  await a.open(context);
  await b.open(context);
  await b.page.waitForTimeout(300); // B's own start-up pass is over (the outbox was empty)
  const before = await b.page.evaluate(() => window.getAllCalls);
  const sent = a.page.evaluate(() => window.soakSend({ clientOrderId: 1 }));
  while (requests === 0) await new Promise((r) => setTimeout(r, 5));
  await b.page.evaluate(() => window.client.resume()); // e.g. B's 'online' event or its own queued call ending
  await sent;
  const after = await b.page.evaluate(() => window.getAllCalls);
  console.log(`tab B listed the outbox ${after - before} times while tab A's one request was held ${HOLD_MS} ms ` +
    `(server requests: ${requests}; a waiting drainer would list it a handful of times)`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
