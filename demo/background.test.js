// End to end: the demo's background lane in Chromium. The page registers the
// demo's service worker; an order placed offline is queued, every tab of the
// demo is closed, the browser comes back online and fires the sync event, and
// the worker places the order with its key while no page is open. The next
// page shows it: from the server's log and from the answer durafetch kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch } from '../js-tests/browser/harness.js';
import { startDemo } from './main.js';
import { eventually, openDemo, serverStats, text } from './page-driver.js';

test('demo page: an order queued offline is placed by the service worker after every tab closed; the next page shows it', { timeout: 90_000 }, async () => {
  const outdir = await mkdtemp(path.join(tmpdir(), 'durafetch-demo-build-'));
  const demo = await startDemo({ port: 0, outdir });
  const browser = await launch();
  const demoPages = () => browser.context.pages().filter((p) => p.url().startsWith(demo.url));
  try {
    const page = await openDemo(browser, demo.url);
    assert.match(await text(page, '#worker-status'), /Background Sync/);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    let key;
    await browser.context.setOffline(true);
    try {
      await page.waitForFunction(() => navigator.onLine === false);
      await page.setChecked('#side-by-side', false);
      await page.click('#place-one');
      const pending = await eventually(() => page.evaluate(() => window.demo.client.pending()), (p) => p.length === 1, 'the order queued');
      key = pending[0].key;
      await eventually(() => page.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags()),
        (tags) => tags.includes('durafetch'), "the 'durafetch' sync tag registered");
      await page.close();
      assert.equal(demoPages().length, 0, 'every tab of the demo closed');
    } finally {
      await browser.context.setOffline(false);
    }

    const stats = await eventually(() => serverStats(demo.app), (s) => s.workerOrders.length > 0, 'the service worker placing it');
    assert.equal(demoPages().length, 0, 'placed with no page of the demo open');
    assert.equal(stats.workerOrders[0].key, key, 'with the key the page queued it under');
    assert.equal(stats.effectsApplied, 1);
    assert.equal(stats.duplicateEffects, 0);

    const again = await openDemo(browser, demo.url);
    await eventually(() => text(again, '#worker-orders'), (t) => t.includes(key.slice(0, 8)), 'the lane to list the order');
    await eventually(() => text(again, '#kept-answers'), (t) => t.includes(`201 ${stats.workerOrders[0].orderId}`), 'the kept answer');
    assert.equal((await serverStats(demo.app)).effectsApplied, 1, 'reading it sent nothing');
    assert.deepEqual(again.errors, []);
  } finally {
    await browser.close();
    await demo.close();
    await rm(outdir, { recursive: true, force: true });
  }
});
