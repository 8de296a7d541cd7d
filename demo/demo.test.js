// End to end: the demo page (bundled from the installed package) in
// Chromium, against the demo servers on 127.0.0.1, driven through its own
// buttons and inputs. Under 30% dropped answers and 10% 503s, 50 orders
// with two reloads mid-flight are each applied exactly once by durafetch,
// while the plain retry loop, same chaos, applies some twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, readStore } from '../js-tests/browser/harness.js';
import { readRecord } from '../js-tests/record-bytes.js';
import { startDemo } from './main.js';
import {
  FINISHED, eventually, laneCells, openDemo, pendingCount, placeBurst, reloadMidFlight, serverStats, setChaos,
  showFirstReload, text, waitForAttempted, waitForFinished, waitForPendingCount, waitForResumedAnswer,
} from './page-driver.js';
import { seededRandom } from './seeded-random.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BURST = 50;
// Latency keeps operations in flight long enough for the reloads to cut them.
const CHAOS = { dropPercent: 30, error503Percent: 10, latencyMs: 250 };

test('demo page: 50 orders, two reloads mid-flight, 0 duplicates with durafetch, some without a key', { timeout: 120_000 }, async () => {
  const outdir = await mkdtemp(path.join(tmpdir(), 'durafetch-demo-build-'));
  const demo = await startDemo({ port: 0, outdir, random: seededRandom(20261124), plainRandom: seededRandom(20261125) });
  const browser = await launch();
  try {
    const page = await openDemo(browser, demo.url);
    const pageErrors = page.errors;
    assert.equal(await page.evaluate(() => window.demo.client.store), 'indexeddb');

    await setChaos(page, CHAOS);
    for (const server of [demo.app, demo.plain]) {
      const { dropAfterProcessing, error503, latencyMs } = server.state.chaos;
      assert.deepEqual({ dropAfterProcessing, error503, latencyMs }, { dropAfterProcessing: 0.3, error503: 0.1, latencyMs: 250 });
    }

    // Phase 1: a side-by-side burst, cut twice by a reload.
    await placeBurst(page, BURST, { sideBySide: true });
    await waitForAttempted(page, 'durafetch', BURST); // all stored: durafetch persists before the first send
    await waitForFinished(page, 'durafetch', 15); // a user would watch a little before pulling the plug
    const pendingAtFirstReload = await pendingCount(page);
    assert.ok(pendingAtFirstReload > 0, 'the first reload cuts operations in flight');
    await reloadMidFlight(page);
    await waitForResumedAnswer(page);
    const pendingAtSecondReload = await pendingCount(page);
    assert.ok(pendingAtSecondReload > 0, `the second reload cuts operations the outbox is resending (${pendingAtFirstReload} pending at the first)`);
    await reloadMidFlight(page);

    await waitForPendingCount(page, 0);
    const afterReloads = await eventually(() => serverStats(demo.app), (s) => s.effectsApplied >= BURST, `${BURST} effects`);
    assert.equal(afterReloads.effectsApplied, BURST, 'every order applied once');
    assert.equal(afterReloads.duplicateEffects, 0);
    assert.equal(afterReloads.unkeyedEffects, 0, 'durafetch sent every attempt with a key');
    assert.ok(afterReloads.dropped > 0 && afterReloads.duplicatesSuppressed > 0, 'drops happened and resends were recognised by key');
    const outbox = await readStore(page, 'outbox');
    // Operations only: answers kept for result(key) and checkout runs stay until read or past ttlMs.
    assert.deepEqual(outbox.map((v) => readRecord(v.data)).filter(Boolean), [], 'no operation left in the IndexedDB outbox');

    await waitForFinished(page, 'durafetch', BURST);
    const cells = await laneCells(page, 'durafetch');
    assert.equal(cells.length, BURST);
    // 'unseen': answered in the instant the old page unloaded (its record is
    // gone from the outbox, checked above); rare, but a real outcome.
    assert.deepEqual(cells.filter((c) => c.state !== 'ok' && c.state !== 'unseen'), [], 'every operation settled on the timeline');
    assert.ok(cells.some((c) => c.reloads > 0 && c.resumed > 0), 'the timeline shows resends after a reload');
    assert.ok(cells.some((c) => c.waits > 0), 'the timeline shows the waits between attempts');

    // Phase 2: the same burst through both clients, no reload, until the plain loop is done.
    const plainBefore = await serverStats(demo.plain);
    const plainFinished = (await laneCells(page, 'plain')).filter((c) => FINISHED.includes(c.state)).length;
    await placeBurst(page, BURST, { sideBySide: true });
    await waitForFinished(page, 'plain', plainFinished + BURST);
    await waitForFinished(page, 'durafetch', 2 * BURST);
    await waitForPendingCount(page, 0);
    const plainAfter = await eventually(() => serverStats(demo.plain), (s) => s.effectsApplied > plainBefore.effectsApplied, 'plain effects');
    assert.ok(plainAfter.duplicateEffects - plainBefore.duplicateEffects > 0, 'the plain loop applied some orders twice');
    assert.equal(plainAfter.unkeyedEffects, plainAfter.effectsApplied);
    const app = await eventually(() => serverStats(demo.app), (s) => s.effectsApplied >= 2 * BURST, `${2 * BURST} effects`);
    assert.equal(app.effectsApplied, 2 * BURST);
    assert.equal(app.duplicateEffects, 0);

    // What the cards say is what the servers counted.
    await eventually(() => text(page, '#df-effects'), (t) => t === String(2 * BURST), 'the durafetch card to catch up');
    assert.equal(await text(page, '#df-dups'), '0');
    await eventually(() => text(page, '#plain-dups'), (t) => t === String(plainAfter.duplicateEffects), 'the plain card to catch up');
    assert.deepEqual(pageErrors, []);

    await showFirstReload(page);
    await mkdir(path.join(HERE, '..', 'build'), { recursive: true });
    const shot = path.join(HERE, '..', 'build', 'demo-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    // The README's picture is refreshed on request, not by every test run.
    if (process.env.UPDATE_SCREENSHOT) await copyFile(shot, path.join(HERE, 'screenshot.png'));
  } finally {
    await browser.close();
    await demo.close();
    await rm(outdir, { recursive: true, force: true });
  }
});
