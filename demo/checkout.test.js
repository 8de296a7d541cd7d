// End to end: the demo page's checkout lane in Chromium, against the demo
// servers on 127.0.0.1. A checkout (charge → reserve → ship) is cut by a
// reload while the server holds step 2's answer back; the new page picks the
// run up at step 2 and finishes it, and the server applied every step once.
// Then a refused shipment: the run fails and its hold is released, once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../js-tests/browser/harness.js';
import { startDemo } from './main.js';
import {
  checkoutRow, eventually, openDemo, reloadMidFlight, serverStats, setChaos, startCheckout, waitForCheckout,
} from './page-driver.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Every answer comes this long after the server applied the step (its key
// claimed meanwhile): the window in which the test reloads during step 2.
const LATENCY_MS = 2000;

const checkoutStats = async (server) => (await serverStats(server)).checkout;

let outdir;
let demo;
let browser;
before(async () => {
  outdir = await mkdtemp(path.join(tmpdir(), 'durafetch-demo-build-'));
  demo = await startDemo({ port: 0, outdir });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await demo?.close();
  await rm(outdir, { recursive: true, force: true });
});

const openDemoPage = () => openDemo(browser, demo.url);

test('checkout lane: a reload during step 2, the new page finishes the run, each step applied once', { timeout: 120_000 }, async () => {
  const page = await openDemoPage();
  try {
    await setChaos(page, { dropPercent: 0, error503Percent: 0, latencyMs: LATENCY_MS });
    assert.equal(demo.app.state.chaos.latencyMs, LATENCY_MS);

    const id = await startCheckout(page);
    // Step 2 reached the server: the hold is placed, its answer is held back.
    await eventually(() => checkoutStats(demo.app), (s) => s.runs[id]?.reserve.effects === 1, 'step 2 to reach the server');
    // The page draws step 1's end from its 'workflow' event, which may come
    // a moment after step 2's request left.
    await page.waitForFunction((run) => document.querySelector(`#checkout-runs li[data-run="${run}"] .step[data-step="charge"]`)?.dataset.state === 'done', id, { timeout: 30_000 });
    const before = await checkoutRow(page, id);
    assert.equal(before.steps.charge.state, 'done');
    assert.equal(before.steps.reserve.state, 'running', 'step 2 is on its way when the page reloads');
    await reloadMidFlight(page, '#checkout-reload');

    // The new page picked the run up from the journal and finished it.
    await waitForCheckout(page, id, 'completed');
    const after = await checkoutRow(page, id);
    assert.deepEqual([after.steps.charge.state, after.steps.charge.resumed], ['done', false], 'step 1: done on the first page');
    assert.equal(after.steps.reserve.reloads, 1, 'the reload cut step 2');
    assert.equal(after.steps.reserve.resumed, true, 'the new page resumed the run at step 2');
    assert.equal(after.steps.reserve.state, 'done');
    assert.equal(after.steps.ship.state, 'done');

    const server = await checkoutStats(demo.app);
    const counts = server.runs[id];
    assert.deepEqual(counts.charge, { requests: 1, effects: 1 }, 'step 1 was never resent: replayed from the journal');
    assert.equal(counts.reserve.effects, 1, 'step 2 applied once');
    assert.ok(counts.reserve.requests >= 2, `step 2 was resent by the new page (${counts.reserve.requests} requests)`);
    assert.equal(counts.ship.effects, 1, 'step 3 applied once');
    assert.deepEqual(counts.release, { requests: 0, effects: 0 }, 'nothing compensated');
    assert.equal(server.duplicateEffects, 0);
    assert.deepEqual(Object.keys(server.runs), [id]);

    // What the page shows is what the server counted: each step applied 1×.
    await page.waitForFunction((run) => [...document.querySelectorAll(`#checkout-runs li[data-run="${run}"] .applied`)]
      .map((n) => n.dataset.effects).join() === '1,1,1', id, { timeout: 30_000 });
    assert.deepEqual(await page.evaluate(() => window.demo.client.runs().then((runs) => runs.map((r) => r.id))), [], 'no unfinished run left');
    assert.deepEqual(page.errors, []);

    await mkdir(path.join(HERE, '..', 'build'), { recursive: true });
    const shot = path.join(HERE, '..', 'build', 'demo-checkout.png');
    await page.locator('section.checkout').screenshot({ path: shot });
    // The README's picture is refreshed on request, not by every test run.
    if (process.env.UPDATE_SCREENSHOT) await copyFile(shot, path.join(HERE, 'checkout.png'));
  } finally {
    await page.close();
  }
});

test('checkout lane: a refused shipment fails the run and releases the hold once', { timeout: 60_000 }, async () => {
  const page = await openDemoPage();
  try {
    await setChaos(page, { dropPercent: 0, error503Percent: 0, latencyMs: 0 });
    await page.check('#chaos-refuse-shipping');
    await page.waitForFunction(() => document.getElementById('chaos-status').textContent === 'applied', null, { timeout: 30_000 });
    const id = await startCheckout(page);
    await waitForCheckout(page, id, 'failed');
    const row = await checkoutRow(page, id);
    assert.deepEqual([row.steps.charge.state, row.steps.reserve.state, row.steps.ship.state], ['done', 'compensated', 'failed']);
    assert.match(await page.textContent(`#checkout-runs li[data-run="${id}"] .end`), /ship: 422/);
    const counts = (await eventually(() => checkoutStats(demo.app), (s) => s.runs[id]?.release.effects > 0, 'the hold released')).runs[id];
    assert.deepEqual(counts, {
      charge: { requests: 1, effects: 1 }, reserve: { requests: 1, effects: 1 },
      ship: { requests: 1, effects: 0 }, release: { requests: 1, effects: 1 },
    });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});
