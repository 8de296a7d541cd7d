// client.drain() in Node, over a file-system adapter store shared by two
// clients (a page and a later one, as a service worker would be): what it
// resends, what it answers, and what it never deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createClient, DurafetchError, handleBackgroundSync } from 'durafetch';
import { fileFixture } from './file-fixture.js';
import { FileStore } from './file-store.js';
import { PATIENT, PATIENT_MS } from './patient.js';

const { server, tempDir } = await fileFixture('durafetch-drain-');

const stored = (dir) => readdirSync(dir).filter((f) => f.endsWith('.rec')).length;

/** Queues one keyed POST to `url` (its only attempt answered 503) in a client that then closes. */
async function queueOne(dir, url) {
  // A day's backoff: only drain() resends it in this test.
  const client = await createClient({ store: new FileStore(dir), ...PATIENT });
  const error = await client.fetch(url, { method: 'POST', body: 'order' }).catch((e) => e);
  assert.equal(error.kind, 'queued');
  await client.close();
  return error.key;
}

test('drain() resends a stored operation now, without waiting out its backoff, and says it settled', async () => {
  const dir = tempDir();
  const url = server.script('/drain-ok', [503, 201]);
  const key = await queueOne(dir, url);
  const client = await createClient({ store: new FileStore(dir), baseDelayMs: PATIENT_MS, maxDelayMs: PATIENT_MS, seed: 1 });
  const settled = [];
  client.on('settled', (e) => settled.push(e.key));
  assert.deepEqual(await client.drain(), { settled: 1, remaining: 0 });
  assert.deepEqual(settled, [key]);
  assert.deepEqual(server.requests('/drain-ok').map((r) => r.key), [key, key]);
  assert.deepEqual(await client.drain(), { settled: 0, remaining: 0 }, 'nothing left: an empty pass');
  await client.close();
});

test('drain() never deletes what has no definitive answer: a 503 leaves it stored, waiting', async () => {
  const dir = tempDir();
  const url = server.script('/drain-503', [503]);
  const key = await queueOne(dir, url);
  const client = await createClient({ store: new FileStore(dir), baseDelayMs: PATIENT_MS, maxDelayMs: PATIENT_MS, seed: 1 });
  assert.deepEqual(await client.drain(), { settled: 0, remaining: 1 });
  assert.equal(server.requests('/drain-503').length, 2, 'resent once in the pass');
  assert.equal(stored(dir), 1);
  const [pending] = await client.pending();
  assert.equal(pending.key, key);
  assert.equal(pending.attempts, 2);
  await client.close();
});

test("drain() never sends before a server's Retry-After", async () => {
  const dir = tempDir();
  const url = server.script('/drain-later', [{ status: 503, retryAfter: 120 }]);
  await queueOne(dir, url);
  const client = await createClient({ store: new FileStore(dir) });
  assert.deepEqual(await client.drain(), { settled: 0, remaining: 1 });
  assert.equal(server.requests('/drain-later').length, 1, 'the server asked for two minutes');
  await client.close();
});

test('drain() after close() and handleBackgroundSync() outside a service worker fail with what to do', async () => {
  const client = await createClient();
  await client.close();
  await assert.rejects(client.drain(), (e) => DurafetchError.is(e) && e.kind === 'closed');
  assert.throws(() => handleBackgroundSync(), (e) => e.kind === 'unsupported-runtime' && /service worker/.test(e.message));
  await assert.rejects(createClient({ backgroundSync: 'no' }), (e) => e.kind === 'invalid-option' && /backgroundSync: expected a boolean/.test(e.message));
});
