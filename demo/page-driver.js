// Drives the demo page the way a person would (its buttons and inputs) and
// reads back what it shows, for demo.test.js and checkout.test.js.
import assert from 'node:assert/strict';

const WAIT = { timeout: 30_000 };

/** A demo server's /stats. */
export async function serverStats(server) {
  const response = await fetch(new URL('/stats', server.url));
  assert.equal(response.status, 200);
  return response.json();
}

/** Polls `read()` until `accept(value)`; returns the value. */
export async function eventually(read, accept, what, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh tab on the demo at `url`, ready, its uncaught errors collected in `page.errors`. */
export async function openDemo(browser, url) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(url);
  await ready(page);
  return page;
}

/** Waits for the page's client to be ready; fails with the page's own reason. */
export async function ready(page) {
  await page.waitForFunction(() => window.demo?.ready || window.demo?.failed, null, WAIT);
  const failed = await page.evaluate(() => window.demo.failed);
  if (failed) throw new Error(`the demo page failed to start: ${failed}`);
}

export async function setChaos(page, { dropPercent, error503Percent, latencyMs }) {
  await page.fill('#chaos-drop', String(dropPercent));
  await page.fill('#chaos-503', String(error503Percent));
  await page.fill('#chaos-latency', String(latencyMs));
  await page.waitForFunction(() => document.getElementById('chaos-status').textContent === 'applied', null, WAIT);
}

export async function placeBurst(page, size, { sideBySide }) {
  await page.fill('#burst-size', String(size));
  await page.setChecked('#side-by-side', sideBySide);
  await page.click('#place-burst');
}

/** Clicks "Reload page mid-flight" (or another reload `button`) and waits for the new page's client. */
export async function reloadMidFlight(page, button = '#reload') {
  await Promise.all([page.waitForEvent('load', WAIT), page.click(button)]);
  await ready(page);
}

/** Clicks "Start a checkout"; resolves with the new run's id, as its row shows it. */
export async function startCheckout(page) {
  const before = await page.$$eval('#checkout-runs li[data-run]', (rows) => rows.length);
  await page.click('#checkout-start');
  await page.waitForFunction((n) => document.querySelectorAll('#checkout-runs li[data-run]').length > n, before, WAIT);
  return page.$eval('#checkout-runs li[data-run]:last-child', (row) => row.dataset.run);
}

/** Until checkout `id`'s row shows `state` ('completed', 'failed', …). */
export function waitForCheckout(page, id, state) {
  return page.waitForSelector(`#checkout-runs li[data-run="${id}"][data-state="${state}"]`, WAIT);
}

/** Checkout `id` as its row draws it: the run's state, and per step what the page saw and the server counted. */
export function checkoutRow(page, id) {
  return page.$eval(`#checkout-runs li[data-run="${id}"]`, (row) => ({
    state: row.dataset.state,
    steps: Object.fromEntries([...row.querySelectorAll('.step')].map((s) => [s.dataset.step, {
      state: s.dataset.state,
      resumed: s.dataset.resumed === 'true',
      reloads: Number(s.dataset.reloads),
      applied: Number(s.querySelector('.applied').dataset.effects),
    }])),
  }));
}

export const pendingCount = (page) => page.evaluate(() => window.demo.client.pending().then((p) => p.length));

// Polled from here: page.waitForFunction does not await a promise its
// predicate returns (a pending promise is truthy), so it cannot wait on pending().
export async function waitForPendingCount(page, n, timeout = 40_000) {
  const end = Date.now() + timeout;
  let count;
  while ((count = await pendingCount(page)) !== n) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${n} pending operations; still ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// A lane's cell exists for an order once that client was given the order.
const CELLS = (lane) => `#timeline li .cell.${lane}[class*="state-"]`;

/** Timeline cells of one lane (`durafetch` | `plain`) as the page draws them. */
export function laneCells(page, lane) {
  return page.$$eval(CELLS(lane), (cells) => cells.map((c) => ({
    order: Number(c.parentElement.dataset.order),
    state: [...c.classList].find((k) => k.startsWith('state-')).slice('state-'.length),
    attempts: c.querySelectorAll('.mark').length,
    resumed: c.querySelectorAll('.mark.resumed').length,
    reloads: c.querySelectorAll('.reload').length,
    waits: c.querySelectorAll('.wait').length,
  })));
}

/** Until `n` cells of `lane` show at least one attempt (so durafetch has stored them). */
export function waitForAttempted(page, lane, n) {
  return page.waitForFunction(([sel, k]) => [...document.querySelectorAll(sel)].filter((c) => c.querySelector('.mark')).length >= k,
    [CELLS(lane), n], { ...WAIT, polling: 50 });
}

/** Until the outbox has answered at least one order resent after a reload. */
export function waitForResumedAnswer(page) {
  return page.waitForFunction((sel) => document.querySelector(`${sel} .mark.ok.resumed`), CELLS('durafetch'), { ...WAIT, polling: 50 });
}

/** Cell states of an order that needs nothing more (see lane.js). */
export const FINISHED = ['ok', 'failed', 'unseen'];

/** Until `n` cells of `lane` are finished. */
export function waitForFinished(page, lane, n) {
  return page.waitForFunction(([sel, k, states]) => [...document.querySelectorAll(sel)]
    .filter((c) => states.some((s) => c.classList.contains(`state-${s}`))).length >= k,
  [CELLS(lane), n, FINISHED], { ...WAIT, polling: 100 });
}

export const text = (page, selector) => page.textContent(selector);

/** Scrolls the timeline to where the first reload cut in, for the screenshot. */
export function showFirstReload(page) {
  return page.$eval('#timeline', (list) => {
    const row = list.querySelector('.reload')?.closest('li');
    if (row) list.scrollTop += row.getBoundingClientRect().top - list.getBoundingClientRect().top - list.clientHeight / 3;
  });
}
