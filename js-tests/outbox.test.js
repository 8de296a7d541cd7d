// The durable outbox in Node, with a file-system adapter store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'durafetch';
import { runScript } from './child-process.js';
import { fileFixture } from './file-fixture.js';
import { FileStore } from './file-store.js';
import { until } from './scripted-server.js';

const { server, tempDir } = await fileFixture('durafetch-outbox-');

function tempStore() {
  const dir = tempDir();
  return { dir, store: new FileStore(dir) };
}

const fast = { baseDelayMs: 5, maxDelayMs: 20, seed: 4 };

function events(client, ...types) {
  const seen = [];
  for (const type of types) client.on(type, (e) => seen.push({ type, ...e }));
  return seen;
}

const run = (args) => runScript(new URL('./outbox-child.js', import.meta.url), args, 15_000);

test('a process killed mid-request: the next process resends with the same key, one effect', async () => {
  const { dir } = tempStore();
  const url = server.script('/killed', ['hang', 201]);
  const first = run(['send', dir, url]);
  await until(() => server.requests('/killed').length === 1, 10_000, 'the first attempt');
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  const stored = readdirSync(dir).filter((f) => f.endsWith('.rec'));
  assert.equal(stored.length, 1, 'the operation was persisted before it was sent');
  const raw = readFileSync(join(dir, stored[0]));
  assert.ok(!raw.includes('s3cret'), 'Authorization is never written to storage');

  const second = run(['resume', dir, url]);
  assert.equal((await second.exited).code, 0);
  const reqs = server.requests('/killed');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0].key, reqs[1].key);
  assert.equal(reqs[1].body.toString(), '{"charge":42}');
  assert.equal(reqs[1].headers['content-type'], 'application/json');
  assert.equal(reqs[1].headers.authorization, 'Bearer restored', 'beforeReplay restored the redacted header');
  assert.deepEqual([...server.effects('/killed').values()], [1]);
  const settled = second.lines.find((l) => l.type === 'settled');
  assert.equal(settled.key, reqs[0].key);
  assert.equal(settled.status, 201);
  assert.equal(settled.resumed, true);
  assert.equal(JSON.parse(settled.body).status, 201, "the resent response's body is readable in 'settled'");
  const kept = second.lines.find((l) => l.type === 'result');
  assert.deepEqual([kept.status, JSON.parse(kept.body).key], [201, reqs[0].key], 'result(key): the answer, kept in the store');
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.rec')).length, 0, 'read once, then deleted');
});

test("no answer within deadlineMs: rejects 'queued', stays pending, resume() settles it", async () => {
  const { store } = tempStore();
  const url = server.script('/queued', ['drop', 'drop', 200]);
  const client = await createClient({ ...fast, store, maxAttempts: 2 });
  const seen = events(client, 'settled', 'queued');
  const err = await client.fetch(url, { method: 'POST', body: 'q' }).catch((e) => e);
  assert.equal(err.kind, 'queued');
  assert.equal(err.reason, 'exhausted');
  assert.equal(err.attempts, 2);
  assert.match(err.message, /stays in the outbox and will be resent with the same key/);
  await until(() => seen.some((e) => e.type === 'settled'), 5000, 'settled');
  const settled = seen.find((e) => e.type === 'settled');
  assert.equal(settled.key, err.key);
  assert.equal(settled.resumed, true);
  assert.equal((await settled.response.json()).status, 200);
  assert.deepEqual(await client.pending(), []);
  assert.equal(new Set(server.requests('/queued').map((r) => r.key)).size, 1);
  assert.deepEqual([...server.effects('/queued').values()], [1]);
  await client.close();
});

test('a definitive answer deletes the record; a transient one never does', async () => {
  const { store: files } = tempStore();
  const url = server.script('/definitive', [503, 422]);
  // The adapter as a user writes it, watched: every delete, and how many
  // requests the origin had seen when it came.
  const deletes = [];
  const store = {
    get: (key) => files.get(key),
    put: (record) => files.put(record),
    delete: (key) => { deletes.push(server.requests('/definitive').length); return files.delete(key); },
    list: () => files.list(),
  };
  const client = await createClient({ ...fast, store });
  const retried = [];
  client.on('retry', (e) => retried.push(files.list().then((list) => ({ status: e.status, stored: list.length }))));
  const res = await client.fetch(url, { method: 'POST', body: 'd' });
  assert.equal(res.status, 422);
  assert.deepEqual(await Promise.all(retried), [{ status: 503, stored: 1 }], 'after the 503 the operation is still stored');
  assert.deepEqual(deletes, [2], 'one delete, after the second (definitive) answer');
  assert.deepEqual(await store.list(), []);
  await client.close();
});

test('durable: false sends without storing', async () => {
  const { store } = tempStore();
  const url = server.script('/not-durable', ['hang', 200]);
  const client = await createClient({ ...fast, store, attemptTimeoutMs: 300 });
  const pending = client.fetch(url, { method: 'POST', body: 'n', durable: false });
  await until(() => server.requests('/not-durable').length === 1);
  assert.deepEqual(await store.list(), []);
  assert.equal((await pending).status, 200);
  await client.close();
});

test('resends keep creation order per origin, one at a time', async () => {
  const { store } = tempStore();
  const url = server.script('/order', ['drop']);
  // No breaker: five drops in a row would open it and defer the last record by the cooldown.
  const first = await createClient({ ...fast, store, maxAttempts: 1, breaker: false });
  const keys = [];
  for (let i = 0; i < 5; i++) {
    const err = await first.fetch(`${url}?n=${i}`, { method: 'POST', body: String(i) }).catch((e) => e);
    keys.push(err.key);
  }
  await first.close();
  server.script('/order', [200]);
  const before = server.requests('/order').length;
  const second = await createClient({ ...fast, store });
  const settled = events(second, 'settled');
  await until(() => settled.length === 5, 5000, '5 settled');
  const resent = server.requests('/order').slice(before).filter((r) => r.method === 'POST');
  assert.deepEqual(resent.map((r) => r.body.toString()).slice(-5), ['0', '1', '2', '3', '4']);
  assert.deepEqual(settled.map((e) => e.key), keys);
  await second.close();
});

test('an expired record is not resent: removed and reported', async () => {
  const { store } = tempStore();
  const url = server.script('/expired', ['drop']);
  const first = await createClient({ ...fast, store, maxAttempts: 1 });
  const err = await first.fetch(url, { method: 'POST', body: 'old' }).catch((e) => e);
  await first.close();
  const sent = server.requests('/expired').length;
  await new Promise((r) => setTimeout(r, 20));
  const second = await createClient({ ...fast, store, ttlMs: 1 });
  const giveups = events(second, 'giveup');
  await until(() => giveups.length === 1, 5000, 'giveup');
  assert.deepEqual(giveups.map((g) => [g.key, g.reason]), [[err.key, 'expired']]);
  assert.equal(server.requests('/expired').length, sent);
  assert.deepEqual(await store.list(), []);
  await second.close();
});

test('a corrupted record is reported and left alone; the good ones still go', async () => {
  const { store } = tempStore();
  const url = server.script('/corrupt', [200]);
  await store.put({ key: 'junk', v: 1, method: 'POST', url, headers: 'oops' });
  await store.put({ key: 'foreign', hello: 'world' });
  const first = await createClient({ ...fast, store, maxAttempts: 1 });
  server.script('/corrupt', ['drop', 200]);
  await first.fetch(url, { method: 'POST', body: 'good' }).catch((e) => e);
  await first.close();
  const second = await createClient({ ...fast, store });
  const seen = events(second, 'store', 'settled');
  await until(() => seen.some((e) => e.type === 'settled'), 5000, 'settled');
  const reports = seen.filter((e) => e.type === 'quarantined');
  assert.deepEqual(reports.map((r) => r.key).sort(), ['foreign', 'junk']);
  assert.ok(reports.every((r) => /malformed|not a durafetch record/.test(r.reason)));
  const left = (await store.list()).filter((v) => v.response === undefined);
  assert.deepEqual(left.map((r) => r.key).sort(), ['foreign', 'junk'], 'nothing lost');
  await second.close();
});

test('a store that throws: the call rejects with kind storage and nothing is sent', async () => {
  const broken = {
    async get() { throw new Error('disk on fire'); },
    async put() { throw new Error('disk on fire'); },
    async delete() { throw new Error('disk on fire'); },
    async list() { throw new Error('disk on fire'); },
  };
  const url = server.script('/broken-store', [200]);
  const client = await createClient({ ...fast, store: broken });
  const errors = events(client, 'store');
  const err = await client.fetch(url, { method: 'POST', body: 'x' }).catch((e) => e);
  assert.equal(err.kind, 'storage');
  assert.match(err.message, /disk on fire/);
  assert.equal(server.requests('/broken-store').length, 0);
  await until(() => errors.some((e) => e.type === 'error'), 5000, 'store error event');
  assert.equal(errors.find((e) => e.type === 'error').error.kind, 'storage');
  await client.close();
});

test('a quota error on persist: nothing sent, nothing already stored lost', async () => {
  const { store } = tempStore();
  await store.put({ v: 1, key: 'existing', junk: true });
  const full = Object.assign(Object.create(store), {
    put: async () => { throw new DOMException('quota exceeded', 'QuotaExceededError'); },
    get: (k) => store.get(k), delete: (k) => store.delete(k), list: () => store.list(),
  });
  const url = server.script('/quota', [200]);
  const client = await createClient({ ...fast, store: full });
  const err = await client.fetch(url, { method: 'POST', body: 'big' }).catch((e) => e);
  assert.equal(err.kind, 'storage');
  assert.equal(err.cause.name, 'QuotaExceededError');
  assert.match(err.message, /nothing was sent/);
  assert.equal(err.sent, false);
  assert.match(err.key, /^[0-9a-f-]{36}$/, 'the error names the operation');
  assert.equal(server.requests('/quota').length, 0);
  assert.deepEqual((await store.list()).map((r) => r.key), ['existing']);
  await client.close();
});

test('resubmitting with the same idempotencyKey after a restart continues the stored operation', async () => {
  const { store } = tempStore();
  const url = server.script('/resubmit', ['drop']);
  const init = { method: 'POST', body: 'same', idempotencyKey: 'checkout-7' };
  const first = await createClient({ ...fast, store, maxAttempts: 1 });
  assert.equal((await first.fetch(url, init).catch((e) => e)).kind, 'queued');
  await first.close();
  server.script('/resubmit', [200]);
  const second = await createClient({ ...fast, store });
  // While the operation is stored, its key with another body is refused, unsent.
  const sentBefore = server.requests('/resubmit').length;
  const reuse = await second.fetch(url, { ...init, body: 'different' }).catch((e) => e);
  assert.equal(reuse.kind, 'key-reuse');
  assert.equal(reuse.key, 'checkout-7');
  assert.equal(server.requests('/resubmit').length, sentBefore);
  const res = await second.fetch(url, init);
  assert.equal(res.status, 200);
  assert.ok(server.requests('/resubmit').every((r) => r.key === 'checkout-7'));
  assert.deepEqual([...server.effects('/resubmit').values()], [1]);
  // Once settled and deleted, the client no longer knows the key: the
  // server's deduplication is what sees the different body (README).
  await until(async () => (await store.list()).length === 0, 5000, 'the record deleted');
  await second.close();
});

// Issue 10's stall: C queues behind B (same origin, older, still in flight);
// B's end must wake the drainer. Before the engine, C waited for resume(),
// an 'online' event or a reload.
test('a call queued behind a slower call to the same origin is resent when that call ends, nobody calling resume()', async () => {
  const { store } = tempStore();
  const slow = server.script('/stall-b', [{ status: 201, delayMs: 400 }]);
  const behind = server.script('/stall-c', [503, 503, 201]);
  const client = await createClient({ store, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, breaker: false, seed: 3 });
  const seen = events(client, 'settled', 'queued');
  await new Promise((r) => setTimeout(r, 20)); // createClient's own first pass
  const b = client.fetch(slow, { method: 'POST', body: 'B' });
  await until(() => server.requests('/stall-b').length === 1, 5_000, "B's attempt");
  const c = await client.fetch(behind, { method: 'POST', body: 'C' }).then(() => null, (e) => e);
  assert.equal(c?.kind, 'queued', `C ends queued: ${c}`);
  assert.equal((await b).status, 201);
  await until(() => seen.some((e) => e.type === 'settled' && e.key === c.key), 5_000, "C resent after B's end");
  const settled = seen.find((e) => e.type === 'settled' && e.key === c.key);
  assert.deepEqual([settled.status, settled.resumed, settled.attempts], [201, true, 3]);
  assert.deepEqual([...server.effects('/stall-c').values()], [1]);
  assert.deepEqual(await client.pending(), []);
  await client.close();
});
