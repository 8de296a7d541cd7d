// The IndexedDB outbox in real Chromium: reloads, tabs, offline, what is stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openClient, pageEvents, readStore, withServer } from './harness.js';
import { readRecord } from '../record-bytes.js';
import { until } from '../scripted-server.js';
import { PATIENT } from '../patient.js';

let browser;
before(async () => { browser = await launch(); });
after(() => browser.close());

async function reloadClient(page) {
  await page.reload();
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10_000 });
}

const settledIn = (page, n = 1) =>
  page.waitForFunction((k) => window.events.filter((e) => e.event === 'settled' && e.resumed).length >= k, n, { timeout: 15_000 });

test('reload mid-request: the new page resends with the same key, one effect, settled seen', () => withServer(async (server) => {
  const url = server.script('/reload', ['hang', 201]);
  const page = await openClient(browser.context, server, { baseDelayMs: 10 });
  assert.equal((await pageEvents(page, 'store'))[0]?.store, 'indexeddb');
  await page.evaluate((u) => { window.send(u, { method: 'POST', body: 'order #1', headers: { authorization: 'Bearer s3cret', 'x-trace': 't' } }); }, url);
  await until(() => server.requests('/reload').length === 1, 10_000, 'the first attempt');

  const [value] = await readStore(page, 'outbox');
  const stored = readRecord(value.data);
  assert.equal(stored.key, server.requests('/reload')[0].key, 'persisted before it was sent');
  assert.ok(!Buffer.from(value.data).toString('latin1').toLowerCase().includes('s3cret'), 'Authorization is not in IndexedDB');
  assert.deepEqual(stored.headers.map(([n]) => n).sort(), ['content-type', 'x-trace']);

  await reloadClient(page);
  await settledIn(page);
  const [settled] = (await pageEvents(page, 'settled')).filter((e) => e.resumed);
  const reqs = server.requests('/reload');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[1].key, reqs[0].key);
  assert.equal(reqs[1].body.toString(), 'order #1');
  assert.equal(settled.key, reqs[0].key);
  assert.equal(settled.status, 201);
  assert.equal(JSON.parse(settled.body).status, 201, "the response body is readable in 'settled'");
  assert.deepEqual([...server.effects('/reload').values()], [1]);
  await until(async () => (await readStore(page, 'outbox')).every((v) => v.response !== undefined), 5_000,
    'the settled record replaced by its kept answer');
  await page.close();
}));

test('two tabs share one outbox: every operation applied once, no key ever in flight twice', () => withServer(async (server) => {
  const url = server.script('/tabs', ['drop']);
  const options = { maxAttempts: 1, breaker: false, baseDelayMs: 5, maxDelayMs: 20 };
  const a = await openClient(browser.context, server, options);
  const keys = [];
  for (let i = 0; i < 10; i++) {
    const r = await a.evaluate(([u, n]) => window.send(u, { method: 'POST', body: `op ${n}` }), [url, i]);
    assert.equal(r.error.kind, 'queued');
    keys.push(r.error.key);
  }
  server.script('/tabs', [{ status: 200, delayMs: 100 }]);
  const b = await openClient(browser.context, server, options);
  for (let round = 0; round < 5; round++) {
    await Promise.all([a.evaluate(() => window.client.resume()), b.evaluate(() => window.client.resume())]);
    await new Promise((r) => setTimeout(r, 50));
  }
  await until(() => server.effects('/tabs').size === 10, 20_000, '10 effects');
  assert.equal(server.maxInFlightPerKey(), 1, 'a key was in flight twice at once');
  assert.deepEqual([...server.effects('/tabs').keys()].sort(), [...keys].sort());
  assert.ok([...server.effects('/tabs').values()].every((n) => n === 1));
  // Polled from here: waitForFunction does not wait for a returned promise.
  const pendingIn = (page) => page.evaluate(() => window.client.pending().then((p) => p.length));
  await until(async () => (await pendingIn(a)) === 0 && (await pendingIn(b)) === 0, 10_000, 'empty outboxes');
  await Promise.all([a.close(), b.close()]);
}));

test('offline, then online: queued while offline, resent on the online event', () => withServer(async (server) => {
  const url = server.script('/offline', [201]);
  const page = await openClient(browser.context, server, { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 });
  await browser.context.setOffline(true);
  try {
    const r = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'while offline' }), url);
    assert.equal(r.error.kind, 'queued');
    assert.equal(server.requests('/offline').length, 0);
  } finally {
    await browser.context.setOffline(false);
  }
  await settledIn(page);
  const opened = (await pageEvents(page, 'breaker')).filter((e) => e.state === 'open');
  assert.deepEqual(opened, [], 'failures while offline are ours: they do not open the breaker');
  assert.equal(server.requests('/offline').length, 1);
  assert.deepEqual([...server.effects('/offline').values()], [1]);
  await page.close();
}));

test('offline: a durable call is stored and queued without spending an attempt; one that cannot be stored waits for the network', () => withServer(async (server) => {
  const stored = server.script('/offline-durable', [201]);
  const live = server.script('/offline-live', [201]);
  const page = await openClient(browser.context, server, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 20_000 });
  await browser.context.setOffline(true);
  try {
    await page.waitForFunction(() => navigator.onLine === false);
    const queued = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'while offline' }), stored);
    assert.deepEqual([queued.error.kind, queued.error.reason], ['queued', 'offline']);
    assert.equal(await page.evaluate(() => window.lastError.attempts), 0, 'no attempt was spent');
    // Not durable: it waits (no attempt while offline) until the network is back.
    await page.evaluate((u) => { window.waiting = window.send(u, { method: 'POST', body: 'live', durable: false }); }, live);
    await new Promise((r) => setTimeout(r, 300));
    const offlineAttempts = (await pageEvents(page, 'attempt')).length;
    assert.equal(offlineAttempts, 0, `attempts made while navigator.onLine was false: ${offlineAttempts}`);
  } finally {
    await browser.context.setOffline(false);
  }
  const answered = await page.evaluate(() => window.waiting);
  assert.equal(answered.status, 201);
  await settledIn(page);
  assert.deepEqual([...server.effects('/offline-durable').values()], [1], 'the stored call, delivered once back online');
  assert.deepEqual([...server.effects('/offline-live').values()], [1]);
  assert.equal(server.requests('/offline-durable').length + server.requests('/offline-live').length, 2, 'one request each');
  await page.close();
}));

test('order is preserved across a reload', () => withServer(async (server) => {
  const url = server.script('/order', ['drop']);
  // A long backoff: only the reload's resend may send them.
  const page = await openClient(browser.context, server, { ...PATIENT, breaker: false });
  for (let i = 0; i < 5; i++) {
    assert.equal((await page.evaluate(([u, n]) => window.send(`${u}?n=${n}`, { method: 'POST', body: String(n) }), [url, i])).error.kind, 'queued');
  }
  server.script('/order', [200]);
  const sent = server.requests('/order').length;
  await reloadClient(page);
  await settledIn(page, 5);
  assert.deepEqual(server.requests('/order').slice(sent).map((r) => r.body.toString()), ['0', '1', '2', '3', '4']);
  await page.close();
}));

test('TTL: an expired operation is not resent, it is removed and reported', () => withServer(async (server) => {
  const url = server.script('/ttl', ['drop']);
  const page = await openClient(browser.context, server, PATIENT);
  const { error } = await page.evaluate((u) => window.send(u, { method: 'POST', body: 'stale' }), url);
  const sent = server.requests('/ttl').length;
  await new Promise((r) => setTimeout(r, 20));
  await openClient(browser.context, server, { ttlMs: 10 }, page);
  await page.waitForFunction(() => window.events.some((e) => e.event === 'giveup'), null, { timeout: 10_000 });
  const [giveup] = await pageEvents(page, 'giveup');
  assert.deepEqual([giveup.key, giveup.reason], [error.key, 'expired']);
  assert.equal(server.requests('/ttl').length, sent);
  // Reported first, then deleted (a crash in between reports it again).
  await until(async () => (await readStore(page, 'outbox')).length === 0, 5_000, 'the expired record deleted');
  await page.close();
}));

test('corrupt and foreign records are quarantined, reported, kept; the good one still goes', () => withServer(async (server) => {
  const url = server.script('/corrupt', ['drop', 200]);
  const page = await openClient(browser.context, server, PATIENT);
  await page.evaluate((u) => window.send(u, { method: 'POST', body: 'good' }), url);
  await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('durafetch');
    open.onsuccess = () => {
      const tx = open.result.transaction('outbox', 'readwrite');
      tx.objectStore('outbox').put({ key: 'junk', v: 1, method: 'POST', headers: 'oops' });
      tx.objectStore('outbox').put({ key: 'foreign', hello: 'world' });
      // An operation (kind 1) in a layout from a later version (99).
      tx.objectStore('outbox').put({ key: 'future', data: new Uint8Array([1, 99, 0]) });
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
  await reloadClient(page);
  await settledIn(page);
  const reports = (await pageEvents(page, 'store')).filter((e) => e.type === 'quarantined');
  assert.deepEqual(reports.map((r) => r.key).sort(), ['foreign', 'future', 'junk']);
  assert.ok(reports.every((r) => r.moved === true));
  assert.match(reports.find((r) => r.key === 'future').reason, /unknown layout/);
  const quarantined = await readStore(page, 'quarantine');
  assert.deepEqual(quarantined.map((q) => q.key).sort(), ['foreign', 'future', 'junk'], 'nothing lost');
  await until(async () => (await readStore(page, 'outbox')).every((v) => v.response !== undefined), 5_000,
    'the settled record replaced by its kept answer');
  await page.close();
}));

test('quota exceeded: the call fails with kind storage before anything is sent', () => withServer(async (server) => {
  const url = server.script('/quota', [200]);
  const page = await openClient(browser.context, server, {});
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 64 * 1024 });
  try {
    // Random bytes: Chromium compresses IndexedDB values, so a repeated
    // character would fit any quota.
    const r = await page.evaluate((u) => {
      const body = new Uint8Array(1024 * 1024);
      for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
      return window.send(u, { method: 'POST', body });
    }, url);
    assert.equal(r.error.kind, 'storage');
    assert.equal(r.error.causeName, 'QuotaExceededError');
    assert.match(r.error.message, /nothing was sent/);
    assert.equal(server.requests('/quota').length, 0);
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
  }
  await page.close();
}));
