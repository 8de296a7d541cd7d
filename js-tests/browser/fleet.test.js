// One breaker and one retry budget per origin across the tabs of an origin,
// in real Chromium: four tabs call a failing origin (a real server on
// 127.0.0.1). Counts of what the origin receives, not times.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openClient, withServer } from './harness.js';

let browser;
before(async () => { browser = await launch(); });
after(() => browser.close());

const TABS = 4;
const THRESHOLD = 5;
const COOLDOWN_MS = 2_000;

/** In a page: calls `url` every `pauseMs` until `stop(result)` says so or
 *  `calls` were made; returns each call's result kind or status. */
function callLoop(page, url, init, { calls = 1_000, pauseMs = 10, until } = {}) {
  return page.evaluate(async ([u, i, n, pause, stopKind]) => {
    const seen = [];
    for (let k = 0; k < n; k++) {
      const r = await window.send(u, i);
      seen.push(r.error ? r.error.kind : r.status);
      if (stopKind && r.error?.kind === stopKind) break;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return seen;
  }, [url, init, calls, pauseMs, until]);
}

/** Probes after the burst, grouped: hits closer together than a quarter cooldown form one group. */
function groups(times) {
  const out = [];
  for (const t of times) {
    if (out.length && t - out.at(-1).at(-1) < COOLDOWN_MS / 4) out.at(-1).push(t);
    else out.push([t]);
  }
  return out;
}

test('four tabs, a failing origin: it gets the threshold plus at most one per tab before all fail fast, then one probe per cooldown', { timeout: 60_000 }, () => withServer(async (server) => {
  const url = server.script('/fleet-breaker', [503]);
  const options = { maxAttempts: 1, retryBudget: false, breaker: { failureThreshold: THRESHOLD, cooldownMs: COOLDOWN_MS } };
  const tabs = [];
  for (let i = 0; i < TABS; i++) tabs.push(await openClient(browser.context, server, options));

  const burst = await Promise.all(tabs.map((tab) => callLoop(tab, url, { method: 'GET' }, { until: 'circuit-open' })));
  const failFast = server.requests('/fleet-breaker').length;
  console.log(`# ${TABS} tabs: the origin got ${failFast} requests before every tab failed fast (threshold ${THRESHOLD}); per tab: ${burst.map((b) => b.length - 1).join(', ')}`);
  assert.ok(burst.every((b) => b.at(-1) === 'circuit-open'), 'every tab fails fast');
  assert.ok(failFast >= THRESHOLD, `${failFast} requests: the breaker opened before its threshold`);
  assert.ok(failFast <= THRESHOLD + TABS, `${failFast} requests before all ${TABS} tabs failed fast: more than the threshold (${THRESHOLD}) plus one per tab`);

  // Every tab keeps calling through three cooldowns: each cooldown ends in one probe.
  const probesFrom = failFast;
  await Promise.all(tabs.map((tab) => callLoop(tab, url, { method: 'GET' }, { calls: Math.ceil((3 * COOLDOWN_MS) / 50), pauseMs: 50 })));
  const probes = server.requests('/fleet-breaker').slice(probesFrom).map((r) => r.at);
  const cycles = groups(probes);
  console.log(`# then ${probes.length} probes in ${cycles.length} cooldowns: ${cycles.map((c) => c.length).join(', ')} per cooldown`);
  assert.ok(cycles.length >= 2, `${cycles.length} cooldowns ended in a probe over three cooldowns' time`);
  assert.deepEqual(cycles.map((c) => c.length), cycles.map(() => 1), 'one probe per cooldown, not one per tab');
  await Promise.all(tabs.map((tab) => tab.close()));
}));

test('four tabs spend one retry budget: the origin gets what one bucket pays for, not four', { timeout: 60_000 }, () => withServer(async (server) => {
  const url = server.script('/fleet-budget', [503]);
  const budget = { capacity: 50, retryCost: 5, timeoutCost: 10, refillPerSecond: 1 };
  const options = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5, breaker: false, retryBudget: budget };
  const tabs = [];
  for (let i = 0; i < TABS; i++) tabs.push(await openClient(browser.context, server, options));
  const started = Date.now();
  const results = await Promise.all(tabs.map((tab) => callLoop(tab, url, { method: 'POST', body: 'x', durable: false }, { calls: 10 })));
  const seconds = (Date.now() - started) / 1000;
  const reqs = server.requests('/fleet-budget');
  const calls = new Set(reqs.map((r) => r.key)).size;
  const retries = reqs.length - calls;
  // One bucket: 50 tokens pay 10 retries of 5, plus its refill while the test ran,
  // plus at most one retry per tab spent before it heard the others' spending.
  const bound = budget.capacity / budget.retryCost + Math.ceil((seconds * budget.refillPerSecond) / budget.retryCost) + TABS;
  console.log(`# ${TABS} tabs, ${calls} calls: ${retries} retries in ${seconds.toFixed(1)} s (one bucket pays ${budget.capacity / budget.retryCost} plus its refill; bound ${bound}; ${TABS} buckets would pay ${TABS * budget.capacity / budget.retryCost})`);
  assert.equal(calls, TABS * 10, 'every first attempt went: the budget never refuses one');
  assert.ok(results.flat().every((r) => r === 503), 'each call ends with its last 503, as fetch would');
  assert.ok(retries >= budget.capacity / budget.retryCost, `${retries} retries: the bucket paid for fewer than it holds`);
  assert.ok(retries <= bound, `${retries} retries: more than one bucket pays for (${bound})`);
  await Promise.all(tabs.map((tab) => tab.close()));
}));
