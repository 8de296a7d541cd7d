// Durable workflows in Node: a checkout of three steps against a real
// server, a process killed in the middle of a step and the run resumed by
// the next one, compensation, the determinism guard, and result(key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, DurafetchError } from 'durafetch/workflows';
import { runScript } from './child-process.js';
import { fileFixture } from './file-fixture.js';
import { FileStore } from './file-store.js';
import { until } from './scripted-server.js';
import { checkoutWorkflow } from './workflows/checkout.js';

const { server, tempDir } = await fileFixture('durafetch-runs-');

const fast = { baseDelayMs: 5, maxDelayMs: 20, seed: 9 };
let n = 0;
/** A fresh base path on the server per test: its own /charges, /holds, /shipments. */
function base(scripts = {}) {
  const prefix = `/shop${++n}`;
  for (const [path, actions] of Object.entries(scripts)) server.script(prefix + path, actions);
  return { url: server.url + prefix, path: (p) => prefix + p };
}

const child = (args) => runScript(new URL('./workflows/child.js', import.meta.url), args);

/** A process that starts run `id` and is killed once the server got the request to `path`. */
async function killedAt(dir, shop, id, path) {
  const started = child(['start', dir, shop.url, id]);
  await until(() => server.requests(shop.path(path)).length === 1, 10_000, `${path} sent`);
  started.child.kill('SIGKILL');
  await started.exited;
  return started;
}

test('a three-step checkout runs each step once, and step resolves with the journaled Response', async () => {
  const shop = base();
  const seen = [];
  const client = await createClient({ ...fast, store: 'memory', workflows: { checkout: checkoutWorkflow(shop.url) } });
  client.on('workflow', (e) => seen.push(`${e.state}${e.step ? ` ${e.step}` : ''}`));
  const run = await client.start('checkout', { order: 'o1', amount: 42 }, { id: 'order-1' });
  assert.equal(run.id, 'order-1');
  const value = await run.result();
  const charges = server.requests(shop.path('/charges'));
  const holds = server.requests(shop.path('/holds'));
  const ships = server.requests(shop.path('/shipments'));
  assert.deepEqual([charges.length, holds.length, ships.length], [1, 1, 1]);
  assert.equal(value.charge, charges[0].key, 'the charge step resolved with its Response, journaled: { status, headers, body }');
  assert.equal(JSON.parse(holds[0].body).charge, charges[0].key, 'the next step saw the parsed JSON body');
  assert.equal(value.ship, 200);
  assert.match(charges[0].key, /^[0-9a-f-]{36}:s0:0$/, 'keys: the run nonce, the step index, the call index');
  assert.match(holds[0].key, /:s1:0$/);
  assert.deepEqual(seen, ['started', 'step-started charge', 'step-completed charge', 'step-started reserve',
    'step-completed reserve', 'step-started ship', 'step-completed ship', 'completed']);
  assert.equal(run.state, 'completed');
  assert.equal(run.steps, 3);
  await client.close();
});

test('the same id joins the run; with another input it is refused as key-reuse', async () => {
  const shop = base();
  const client = await createClient({ ...fast, store: 'memory', workflows: { checkout: checkoutWorkflow(shop.url) } });
  const [a, b] = await Promise.all([
    client.start('checkout', { order: 'o2', amount: 1 }, { id: 'order-2' }),
    client.start('checkout', { order: 'o2', amount: 1 }, { id: 'order-2' }),
  ]);
  assert.deepEqual(await a.result(), await b.result());
  assert.equal(server.requests(shop.path('/charges')).length, 1, 'one run, one charge');
  await assert.rejects(client.start('checkout', { order: 'o2', amount: 2 }, { id: 'order-2' }), (e) => e.kind === 'key-reuse' && e.key === 'order-2');
  await assert.rejects(client.start('nope', {}), (e) => e.kind === 'invalid-option' && /workflow given to createClient/.test(e.message));
  await assert.rejects(client.start('checkout', { f() {} }), (e) => e.kind === 'invalid-option' && e.option === 'start(input)');
  await client.close();
});

test('a process killed in the middle of step 2: the next one resumes it with the same key, step 1 is not resent', async () => {
  const dir = tempDir();
  const shop = base({ '/holds': ['hang', 200] });
  const first = await killedAt(dir, shop, 'order-3', '/holds');
  assert.deepEqual(first.lines.filter((l) => l.type === 'workflow').map((l) => l.state),
    ['started', 'step-started', 'step-completed', 'step-started']);

  const second = child(['resume', dir, shop.url, 'order-3']);
  await second.exited;
  const out = second.lines.find((l) => l.type === 'result');
  assert.ok(out, `the resumed run ended: ${JSON.stringify(second.lines)}`);
  const charges = server.requests(shop.path('/charges'));
  const holds = server.requests(shop.path('/holds'));
  assert.equal(charges.length, 1, 'step 1 completed before the crash: replayed, not resent');
  assert.equal(holds.length, 2, 'step 2 sent again');
  assert.equal(holds[0].key, holds[1].key, 'with the same key');
  assert.equal(server.requests(shop.path('/shipments')).length, 1);
  assert.deepEqual(out.value, { charge: charges[0].key, hold: holds[0].key, ship: 200 });
  const states = second.lines.filter((l) => l.type === 'workflow').map((l) => `${l.state}${l.step ? ` ${l.step}` : ''}`);
  assert.deepEqual(states, ['step-started reserve', 'step-completed reserve', 'step-started ship', 'step-completed ship', 'completed']);
  const left = await new FileStore(dir).list();
  assert.deepEqual(left.map((v) => [v.key, v.run.output]), [['run order-3', out.value]], 'the outbox is empty; the ended run (and its outcome) stays until ttlMs');
});

test('step 3 refused with a 4xx: the run fails and step 2 is compensated through its undo', async () => {
  // 422, not 409: a 409 is retried (a request with its key still in progress).
  const shop = base({ '/shipments': [422] });
  const seen = [];
  const client = await createClient({ ...fast, store: 'memory', workflows: { checkout: checkoutWorkflow(shop.url) } });
  client.on('workflow', (e) => seen.push(`${e.state}${e.step ? ` ${e.step}` : ''}`));
  const run = await client.start('checkout', { order: 'o4', amount: 5 }, { id: 'order-4' });
  const error = await run.result().then(() => null, (e) => e);
  assert.ok(DurafetchError.is(error) && error.kind === 'workflow-failed', String(error));
  assert.equal(error.step, 'ship');
  assert.deepEqual(error.compensated, ['reserve']);
  assert.equal(error.cause.kind, 'step-status');
  assert.equal(error.cause.status, 422);
  const holds = server.requests(shop.path('/holds'));
  const releases = server.requests(shop.path('/holds/release'));
  assert.equal(releases.length, 1, 'the undo ran once');
  assert.equal(JSON.parse(releases[0].body).release, holds[0].key, 'with the step\'s journaled result');
  assert.match(releases[0].key, /:u1:0$/, 'under a key of its own');
  assert.deepEqual(seen.slice(-2), ['compensated reserve', 'failed ship']);
  assert.equal(run.state, 'failed');
  await client.close();
});

test('a failed run read by the next process: the same error, its cause a DurafetchError with the answer', async () => {
  const dir = tempDir();
  const shop = base({ '/shipments': [422] });
  const first = child(['start', dir, shop.url, 'order-7']);
  await first.exited;
  const here = first.lines.find((l) => l.type === 'error');
  const next = child(['resume', dir, shop.url, 'order-7']);
  await next.exited;
  const later = next.lines.find((l) => l.type === 'error');
  assert.ok(here && later, JSON.stringify([first.lines, next.lines]));
  assert.deepEqual(here.cause, { durafetch: true, kind: 'step-status', status: 422, response: 422 });
  assert.deepEqual(later, here, 'read back from the journal');
  assert.equal(server.requests(shop.path('/holds/release')).length, 1, 'compensated once, not again');
});

test('a run resumed under changed code stops with workflow-mismatch instead of guessing', async () => {
  const dir = tempDir();
  const shop = base({ '/holds': ['hang', 200] });
  await killedAt(dir, shop, 'order-5', '/holds');
  // Version 2 renamed 'reserve' to 'hold': the journal has 'charge' only, so
  // the renamed step is new, and runs; a rename of a completed step would not.
  const dir2 = tempDir();
  const shop2 = base({ '/shipments': ['hang', 200] });
  await killedAt(dir2, shop2, 'order-6', '/shipments');
  const resumed = child(['resume', dir2, shop2.url, 'order-6', '2']);
  await resumed.exited;
  const out = resumed.lines.find((l) => l.type === 'error');
  assert.ok(out, JSON.stringify(resumed.lines));
  assert.equal(out.kind, 'workflow-mismatch');
  assert.equal(out.step, 'hold');
  assert.equal(server.requests(shop2.path('/holds')).length, 1, 'the completed step was not run again under its new name');
  const ships = server.requests(shop2.path('/shipments'));
  assert.ok(ships.every((r) => r.key === ships[0].key), 'no step ran again: the request in flight (the outbox\'s) kept its key');
  const second = child(['resume', dir, shop.url, 'order-5', '2']);
  await second.exited;
  assert.ok(second.lines.some((l) => l.type === 'result'), 'only the completed steps are checked');
});

test('steps: one at a time, results structured-cloneable, names checked', async () => {
  const shop = base();
  const client = await createClient({
    ...fast,
    store: 'memory',
    workflows: {
      parallel: async (step) => Promise.all([step('a', async () => 1), step('b', async () => 2)]),
      uncloneable: async (step) => step('fn', async () => () => 1),
      badName: async (step) => step('has space', async () => 1),
      thrower: async (step) => {
        await step('ok', (fetch) => fetch(`${shop.url}/charges`, { method: 'POST', body: 'x' }));
        throw new Error('the workflow\'s own bug');
      },
    },
  });
  const failure = async (name) => (await client.start(name, null)).result().then(() => null, (e) => e);
  const parallel = await failure('parallel');
  assert.equal(parallel.kind, 'workflow-failed');
  assert.match(parallel.cause.message, /one step at a time/);
  const uncloneable = await failure('uncloneable');
  assert.equal(uncloneable.cause.kind, 'invalid-option');
  assert.match(uncloneable.cause.message, /structured-cloneable/);
  assert.match((await failure('badName')).cause.message, /step\(name\)/);
  const thrown = await failure('thrower');
  assert.equal(thrown.cause.message, 'the workflow\'s own bug');
  assert.equal(thrown.step, undefined, 'no step failed: the code after the steps threw');
  await client.close();
});

test('a step whose body throws fails its run, even when the workflow catches it; the next step never runs', async () => {
  let after = 0;
  const thrown = new Error('card declined');
  const workflows = {
    careless: async (step) => {
      await step('pay', async () => { throw thrown; }).catch(() => 'ignored');
      after += 1;
      return step('ship', async () => 'shipped');
    },
  };
  const client = await createClient({ ...fast, store: 'memory', workflows });
  const run = await client.start('careless', {}, { id: 'careless-1' });
  const { error } = await run.result().then((value) => ({ value }), (e) => ({ error: e }));
  assert.equal(error?.kind, 'workflow-failed', String(error));
  assert.equal(error.step, 'pay');
  assert.equal(error.cause, thrown, 'its cause is what the step threw');
  assert.equal(run.steps, 0, 'no step completed');
  await client.close();
  assert.equal(after, 1, 'the code after the step ran, and its next step was refused');
});

test('a start() refused for its name leaves nothing behind: the next start() of that id runs with its own input', async () => {
  const client = await createClient({ ...fast, store: 'memory', workflows: { echo: async (step, input) => input } });
  await assert.rejects(client.start('nope', { from: 'refused' }, { id: 'echo-1' }), (e) => e.kind === 'invalid-option');
  const run = await client.start('echo', { from: 'accepted' }, { id: 'echo-1' });
  assert.deepEqual(await run.result(), { from: 'accepted' });
  await client.close();
});

test("result(key) gets its answer while a listing reads many other kept answers before the read's delete is done", async () => {
  const path = base().path('/many');
  const url = server.url + path;
  // A store whose deletes wait until a listing has been read: the engine's
  // round lists every kept answer between result(key)'s read and its answer.
  const values = new Map();
  let listed;
  const store = {
    async get(key) { return values.get(key); },
    async put(value) { values.set(value.key, value); },
    async delete(key) { await listed?.promise; values.delete(key); },
    async list() { const all = [...values.values()]; listed?.resolve(); return all; },
  };
  server.script(path, Array(70).fill(503));
  const client = await createClient({ ...fast, maxAttempts: 1, breaker: false, retryBudget: false, store });
  const keys = await Promise.all(Array.from({ length: 70 }, (_, i) =>
    client.fetch(url, { method: 'POST', body: String(i), idempotencyKey: `many-${i}` }).then(() => null, (e) => e.key)));
  server.script(path, Array(70).fill(201));
  assert.deepEqual(await client.drain(), { settled: 70, remaining: 0 }, 'each answer kept, for result(key)');
  listed = {};
  listed.promise = new Promise((resolve) => { listed.resolve = resolve; });
  const read = client.result(keys[0]);
  client.resume();
  const response = await read;
  assert.equal(response?.status, 201, 'not null: its answer was read and deleted');
  assert.equal((await response.json()).key, keys[0]);
  await client.close();
});

test('result(key): an operation that settled in the background is kept until read once', async () => {
  const dir = tempDir();
  const path = base().path('/late');
  server.script(path, [503, 201]);
  const client = await createClient({ ...fast, maxAttempts: 1, store: new FileStore(dir) });
  const error = await client.fetch(server.url + path, { method: 'POST', body: 'x', idempotencyKey: 'late-1' }).then(() => null, (e) => e);
  assert.equal(error.kind, 'queued');
  const response = await client.result('late-1');
  assert.equal(response.status, 201);
  assert.equal((await response.json()).key, 'late-1');
  assert.equal(await client.result('late-1'), null, 'read once');
  assert.equal(await client.result('never-sent'), null);
  await assert.rejects(client.result('bad key'), (e) => e.kind === 'invalid-option');
  assert.deepEqual(await new FileStore(dir).list(), []);
  await client.close();
});

test('an unreadable journal is reported and left alone, never run', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  // A run's journal (kind 2, layout 1) cut short after its id.
  const cut = new Uint8Array([2, 1, 6, ...new TextEncoder().encode('broken')]);
  await store.put({ key: 'run broken', data: cut, run: { id: 'broken', name: 'checkout', input: {} } });
  const shop = base();
  const client = await createClient({ ...fast, store, workflows: { checkout: checkoutWorkflow(shop.url) } });
  const seen = [];
  client.on('store', (e) => seen.push(e));
  await until(() => seen.some((e) => e.type === 'quarantined'), 5_000, 'the quarantine report');
  const report = seen.find((e) => e.type === 'quarantined');
  assert.equal(report.key, 'run broken');
  assert.equal(report.moved, false, 'an adapter cannot move it aside: it stays where it is');
  assert.equal(client.run('broken'), null);
  assert.equal(server.requests(shop.path('/charges')).length, 0);
  assert.equal((await store.list()).length, 1, 'nothing lost');
  await client.close();
});

test("a drain's listing while a step's journal write is pending does not lose the step's answer", async () => {
  // A Map adapter that stores copies (as IndexedDB or a file does), whose
  // journal write after step 1 waits for the test: the step's answer is in
  // memory, not yet stored, while a drain round lists the outbox.
  const shop = base();
  const records = new Map();
  let gate = null;
  const store = {
    async get(key) { return structuredClone(records.get(key)); },
    async put(value) {
      const copy = structuredClone(value);
      if (gate === 'armed' && value.run?.results?.length === 1) {
        let open;
        const opened = new Promise((r) => { open = r; });
        gate = { open };
        await opened;
      }
      records.set(value.key, copy);
    },
    async delete(key) { records.delete(key); },
    async list() { return [...records.values()].map((v) => structuredClone(v)); },
  };
  const client = await createClient({ ...fast, store, workflows: { checkout: checkoutWorkflow(shop.url) } });
  try {
    gate = 'armed';
    const run = await client.start('checkout', { order: 'o-gate', amount: 7 }, { id: 'order-gate' });
    await until(() => typeof gate?.open === 'function', 10_000, "step 1's journal write held");
    // A drain round lists every stored value, the run's journal among them.
    const drained = client.drain();
    await drained;
    gate.open();
    const value = await run.result();
    assert.equal(typeof value.charge, 'string', 'step 2 read step 1\'s answer');
    assert.equal(value.ship, 200);
    assert.equal(server.requests(shop.path('/charges')).length, 1);
  } finally {
    await client.close();
  }
});
