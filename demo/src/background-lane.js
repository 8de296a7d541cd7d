// The background lane: the page registers the demo's service worker, which
// delivers queued orders after every page of the demo is closed. The lane
// shows what the server's log says the worker placed, and, for the orders
// this browser left queued when its last page closed, the answer durafetch
// kept for them (`client.result(key)`), read once by the next page.

const LEFT = 'durafetch-demo-left-queued';
const SHOWN = 8;

/** Registers the worker; `{ supported, syncApi }` says what this browser can do. */
export async function registerWorker() {
  const supported = 'serviceWorker' in navigator;
  if (supported) await navigator.serviceWorker.register('/app/sw.js', { type: 'module', scope: '/' });
  return { supported, syncApi: typeof globalThis.SyncManager === 'function' };
}

const leftQueued = () => {
  try { return JSON.parse(localStorage.getItem(LEFT) ?? '[]'); } catch { return []; }
};
const saveLeft = (keys) => localStorage.setItem(LEFT, JSON.stringify(keys.slice(-50)));

/** Remembers orders that end queued here, and forgets those that settle here (by key). */
export function followQueued(client) {
  client.on('queued', ({ key }) => { if (!leftQueued().includes(key)) saveLeft([...leftQueued(), key]); });
  client.on('settled', ({ key, resumed, response }) => {
    // Settled by this page: nobody else needs its answer. Settled elsewhere
    // (`resumed` without a body, from another context): read it below.
    if (response || !resumed) saveLeft(leftQueued().filter((k) => k !== key));
  });
}

/** The answers kept for orders a closed page left queued: `[{ key, status, order }]`, each read once. */
export async function readKeptAnswers(client) {
  const found = [];
  for (const key of leftQueued()) {
    const response = await client.result(key);
    if (!response) continue; // still queued here, or already read
    const body = await response.json().catch(() => ({}));
    found.push({ key, status: response.status, order: body.orderId });
    saveLeft(leftQueued().filter((k) => k !== key));
  }
  return found;
}

function li(text, className = '') {
  const node = document.createElement('li');
  node.className = className;
  node.textContent = text;
  return node;
}

/** `worker`: registerWorker()'s answer; `kept`: readKeptAnswers()'s; `stats`: the app server's /stats. */
export function renderBackground({ status, delivered, kept }, { worker, kept: answers, stats }) {
  status.textContent = !worker?.supported ? 'no service workers in this browser'
    : worker.syncApi ? 'service worker registered · Background Sync: the browser fires it once back online'
      : 'service worker registered · no Background Sync here: it drains when it starts, pages when shown';
  const orders = stats?.workerOrders ?? [];
  delivered.replaceChildren(...(orders.length === 0
    ? [li('none yet', 'empty')]
    : orders.slice(-SHOWN).reverse().map((o) => li(`${o.orderId} · order ${o.clientOrderId ?? '?'} · key ${o.key.slice(0, 8)}… · ${new Date(o.at).toLocaleTimeString()}`))));
  kept.replaceChildren(...(answers.length === 0
    ? [li('none', 'empty')]
    : answers.map((a) => li(`${a.status} ${a.order ?? ''} · key ${a.key.slice(0, 8)}…: settled while no page was open, read now`, 'kept'))));
}
