// Durable workflows in real Chromium (IndexedDB journal, Web Locks, tabs,
// reloads): js-tests/workflows/checkout.js against the scripted server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, readStore, withServer } from './harness.js';
import { readRecord } from '../record-bytes.js';
import { until } from '../scripted-server.js';
import { PATIENT } from '../patient.js';

let browser;
before(async () => { browser = await launch(); });
after(() => browser.close());

/** The workflow page, its client running checkout against `base` (version 1 or 2). */
function openWorkflowPage(server, base, { version = 1, page, options = {} } = {}) {
  const query = `base=${encodeURIComponent(base)}&version=${version}&o=${encodeURIComponent(JSON.stringify(options))}`;
  return openPage(browser.context, `${server.url}/page/workflow.html?${query}`, page);
}

const events = (page, type) => page.evaluate((t) => window.events.filter((e) => !t || e.event === t), type);
const steps = async (page) => (await events(page, 'workflow')).map((e) => `${e.state}${e.step ? ` ${e.step}` : ''}`);

test('reload in the middle of step 2: step 1 is not resent, step 2 is resent with its key and applied once, the new page gets the result', () => withServer(async (server) => {
  // Step 2 is applied, its answer never comes: the page reloads while it is in flight.
  server.script('/r1/holds', ['hold', 200]);
  const base = `${server.url}/r1`;
  const page = await openWorkflowPage(server, base);
  assert.deepEqual(await page.evaluate(() => window.start('order-42', { order: 'o42', amount: 42 })), { value: 'order-42' });
  await until(() => server.requests('/r1/holds').length === 1, 10_000, 'step 2 sent');
  assert.deepEqual(await steps(page), ['started', 'step-started charge', 'step-completed charge', 'step-started reserve']);

  await page.reload();
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10_000 });
  const outcome = await page.evaluate(() => window.runResult('order-42'));
  const charges = server.requests('/r1/charges');
  const holds = server.requests('/r1/holds');
  const ships = server.requests('/r1/shipments');
  assert.equal(charges.length, 1, 'step 1 completed before the reload: replayed from the journal, not resent');
  assert.equal(holds.length, 2, 'step 2 resent by the new page');
  assert.equal(holds[1].key, holds[0].key, 'with the same key');
  assert.deepEqual([...server.effects('/r1/holds').values()], [1], 'and applied once');
  assert.equal(ships.length, 1);
  assert.deepEqual(outcome, { value: { charge: charges[0].key, hold: holds[0].key, ship: 200 } });
  assert.deepEqual(await steps(page), ['step-started reserve', 'step-completed reserve', 'step-started ship', 'step-completed ship', 'completed']);
  await page.close();
}));

test('step 3 refused with a 4xx: the run fails and step 2 is compensated', () => withServer(async (server) => {
  server.script('/r2/shipments', [422]);
  const page = await openWorkflowPage(server, `${server.url}/r2`);
  await page.evaluate(() => window.start('order-43', { order: 'o43', amount: 1 }));
  const { error } = await page.evaluate(() => window.runResult('order-43'));
  assert.equal(error.kind, 'workflow-failed');
  assert.equal(error.step, 'ship');
  assert.deepEqual(error.compensated, ['reserve']);
  assert.deepEqual(error.cause, { kind: 'step-status', status: 422, message: error.cause.message });
  const releases = server.requests('/r2/holds/release');
  assert.equal(releases.length, 1);
  assert.equal(JSON.parse(releases[0].body).release, server.requests('/r2/holds')[0].key, 'undo got the step\'s journaled result');
  assert.deepEqual((await steps(page)).slice(-2), ['compensated reserve', 'failed ship']);
  await page.close();
}));

test('two tabs start the same run: one runs it, the other joins and gets its result', () => withServer(async (server) => {
  server.script('/r3/charges', [{ status: 200, delayMs: 500 }]);
  const base = `${server.url}/r3`;
  const a = await openWorkflowPage(server, base);
  const b = await openWorkflowPage(server, base);
  const input = { order: 'o44', amount: 3 };
  await a.evaluate((i) => window.start('order-44', i), input);
  assert.deepEqual(await b.evaluate((i) => window.start('order-44', i), input), { value: 'order-44' }, 'joined, not refused');
  const [ra, rb] = await Promise.all([a.evaluate(() => window.runResult('order-44')), b.evaluate(() => window.runResult('order-44'))]);
  assert.deepEqual(rb, ra);
  assert.ok(ra.value, JSON.stringify(ra));
  for (const path of ['/r3/charges', '/r3/holds', '/r3/shipments']) assert.equal(server.requests(path).length, 1, `${path}: one runner`);
  const started = async (p) => (await steps(p)).filter((s) => s.startsWith('step-started')).length;
  assert.deepEqual([await started(a), await started(b)].sort(), [0, 3], 'every step ran in one tab');
  const refused = await b.evaluate(() => window.start('order-44', { order: 'o44', amount: 4 }));
  assert.equal(refused.error.kind, 'key-reuse', 'the same id with another input');
  await Promise.all([a.close(), b.close()]);
}));

test('a run resumed under changed code stops with workflow-mismatch', () => withServer(async (server) => {
  // Steps 1 and 2 complete; step 3 hangs; the reloaded page runs version 2,
  // which renamed step 2: the journal and the code disagree.
  server.script('/r4/shipments', ['hang', 200]);
  const base = `${server.url}/r4`;
  const page = await openWorkflowPage(server, base);
  await page.evaluate(() => window.start('order-45', { order: 'o45', amount: 5 }));
  await until(() => server.requests('/r4/shipments').length === 1, 10_000, 'step 3 sent');
  await openWorkflowPage(server, base, { version: 2, page });
  const { error } = await page.evaluate(() => window.runResult('order-45'));
  assert.equal(error.kind, 'workflow-mismatch');
  assert.equal(error.step, 'hold');
  assert.equal(server.requests('/r4/holds').length, 1, 'the completed step was not run again under its new name');
  // The interrupted step's request is the outbox's: it may be resent, under its key.
  const ships = server.requests('/r4/shipments');
  assert.ok(ships.every((r) => r.key === ships[0].key), 'no step ran again: the one request in flight kept its key');
  await page.close();
}));

test('an operation queued in tab B and resent by tab A: B hears it settled and reads it with result(key)', () => withServer(async (server) => {
  const url = server.script('/tabs/orders', ['drop', 201]);
  const base = `${server.url}/tabs`;
  // B gives up after one attempt and never resends it itself; A resends it now.
  const b = await openWorkflowPage(server, base, { options: PATIENT });
  const sent = await b.evaluate((u) => window.send(u, { method: 'POST', body: '{}', idempotencyKey: 'order-46' }), url);
  assert.equal(sent.error?.kind, 'queued', JSON.stringify(sent));
  // The premise: B's own resend is not due while this test runs.
  const [stored] = (await readStore(b, 'outbox')).map((r) => readRecord(r.data));
  assert.ok(stored.nextAttemptAt > Date.now() + 60_000, `B resends at ${stored.nextAttemptAt}, now ${Date.now()}`);
  const a = await openWorkflowPage(server, base);
  await b.evaluate(() => { window.kept = window.result('order-46'); });
  await a.evaluate(() => window.client.resume());
  await until(async () => (await events(a, 'settled')).length === 1, 10_000, "A's 'settled'").catch(async (e) => {
    // What each tab and the server saw, for a failure seen once in a full suite.
    const seen = { a: await events(a), b: await events(b), requests: server.requests('/tabs/orders') };
    throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
  });
  await until(async () => (await events(b, 'settled')).length === 1, 10_000, "B's 'settled'");
  const [inA] = await events(a, 'settled');
  const [inB] = await events(b, 'settled');
  assert.deepEqual([inA.key, inA.status, inA.hasResponse], ['order-46', 201, true], 'A resent it and got the Response');
  assert.deepEqual([inB.key, inB.status, inB.resumed], ['order-46', 201, true], 'B heard it (BroadcastChannel), once');
  const kept = await b.evaluate(() => window.kept);
  assert.equal(kept.value.status, 201);
  assert.equal(kept.value.body.key, 'order-46');
  assert.deepEqual(await a.evaluate(() => window.result('order-46')), { value: null }, 'read once');
  assert.deepEqual([...server.effects('/tabs/orders').values()], [1]);
  assert.equal((await events(b, 'settled')).length, 1, 'once per tab');
  await Promise.all([a.close(), b.close()]);
}));
