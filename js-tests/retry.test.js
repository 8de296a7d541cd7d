// Retry behaviour against a real HTTP server on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, DurafetchError } from 'durafetch';
import { startTestServer, until } from './scripted-server.js';

let server;
before(async () => { server = await startTestServer(); });
after(() => server.close());

// Small waits so the suite is fast; the schedule itself is tested exactly in Rust.
const fast = { baseDelayMs: 5, maxDelayMs: 20, seed: 1 };

function record(client, ...types) {
  const events = [];
  for (const type of types) client.on(type, (e) => events.push({ type, ...e }));
  return events;
}

test('a POST dropped twice after processing: 3 attempts, one key, one effect, 200', async () => {
  const url = server.script('/drop2', ['drop', 'drop', 200]);
  const client = await createClient(fast);
  const res = await client.fetch(url, { method: 'POST', body: '{"amount":42}' });
  assert.equal(res.status, 200);
  const reqs = server.requests('/drop2');
  assert.equal(reqs.length, 3);
  const keys = new Set(reqs.map((r) => r.key));
  assert.equal(keys.size, 1);
  assert.match([...keys][0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...server.effects('/drop2').values()], [1]);
  assert.ok(reqs.every((r) => r.body.toString() === '{"amount":42}'));
  assert.equal((await res.json()).attempt, 3);
});

test('GET 503, 503, 200: retried freely, no key', async () => {
  const url = server.script('/get503', [503, 503, 200]);
  const client = await createClient(fast);
  const events = record(client, 'retry', 'settled');
  const res = await client.fetch(url);
  assert.equal(res.status, 200);
  assert.equal(server.requests('/get503').length, 3);
  assert.ok(server.requests('/get503').every((r) => r.key === null));
  assert.deepEqual(events.map((e) => [e.type, e.reason ?? e.status]), [['retry', 'status'], ['retry', 'status'], ['settled', 200]]);
  assert.ok(events.every((e) => e.key === null));
});

for (const status of [400, 401, 403, 404, 422]) {
  test(`no retry on ${status}: the caller gets that Response`, async () => {
    const url = server.script(`/no-retry-${status}`, [status, 200]);
    const client = await createClient(fast);
    const res = await client.fetch(url, { method: 'POST', body: 'x' });
    assert.equal(res.status, status);
    assert.equal(server.requests(`/no-retry-${status}`).length, 1);
  });
}

test('Retry-After is honoured exactly, above maxDelayMs, without jitter', async () => {
  const url = server.script('/retry-after', [{ status: 429, retryAfter: 1 }, 200]);
  const client = await createClient({ ...fast, maxDelayMs: 10 });
  const events = record(client, 'retry');
  const res = await client.fetch(url, { method: 'PUT', body: 'v' });
  assert.equal(res.status, 200);
  assert.equal(events.length, 1);
  assert.equal(events[0].delayMs, 1000);
  const [first, second] = server.requests('/retry-after');
  assert.ok(second.at - first.at >= 1000, `resent after ${second.at - first.at} ms, before the server asked`);
});

test('Retry-After beyond the deadline: the call settles with that response instead of resending early', async () => {
  const url = server.script('/retry-after-long', [{ status: 503, retryAfter: 3600 }, 200]);
  const client = await createClient({ ...fast, deadlineMs: 2000 });
  const events = record(client, 'giveup');
  const res = await client.fetch(url, { method: 'POST', body: 'v' });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '3600');
  assert.equal(server.requests('/retry-after-long').length, 1);
  assert.equal(events[0].reason, 'deadline');
});

test('maxAttempts is exact; exhausted statuses resolve with the last Response', async () => {
  for (const maxAttempts of [1, 2, 4]) {
    const url = server.script(`/max-${maxAttempts}`, [503]);
    const client = await createClient({ ...fast, maxAttempts, breaker: false });
    const events = record(client, 'giveup');
    const res = await client.fetch(url, { method: 'POST', body: 'v' });
    assert.equal(res.status, 503);
    assert.equal(server.requests(`/max-${maxAttempts}`).length, maxAttempts);
    assert.deepEqual(events.map((e) => [e.reason, e.attempts, e.status]), [['exhausted', maxAttempts, 503]]);
  }
});

test('no answer at all: rejects with kind exhausted, the key, attempts and cause', async () => {
  const url = server.script('/always-drop', ['drop']);
  const client = await createClient({ ...fast, maxAttempts: 3 });
  const err = await client.fetch(url, { method: 'POST', body: 'v' }).catch((e) => e);
  assert.ok(err instanceof DurafetchError && DurafetchError.is(err));
  assert.equal(err.kind, 'exhausted');
  assert.equal(err.attempts, 3);
  assert.equal(err.key, server.requests('/always-drop')[0].key);
  assert.ok(err.cause instanceof TypeError, 'cause is the fetch error');
  assert.match(err.message, /POST http:\/\/127\.0\.0\.1:\d+\/always-drop got no answer after 3 attempts/);
  assert.deepEqual([...server.effects('/always-drop').values()], [1], 'applied once across 3 sends');
});

test('each attempt has its own timeout', async () => {
  const url = server.script('/hang-once', ['hang', 200]);
  const client = await createClient({ ...fast, attemptTimeoutMs: 200 });
  const events = record(client, 'retry');
  const res = await client.fetch(url, { method: 'POST', body: 'v' });
  assert.equal(res.status, 200);
  assert.equal(events[0].reason, 'timeout');
  assert.equal(new Set(server.requests('/hang-once').map((r) => r.key)).size, 1);
});

test('deadline: a call never outlives deadlineMs', async () => {
  const url = server.script('/hang', ['hang']);
  const client = await createClient({ ...fast, attemptTimeoutMs: 5000, deadlineMs: 300 });
  const err = await client.fetch(url, { method: 'POST', body: 'v' }).catch((e) => e);
  assert.equal(err.kind, 'deadline');
  assert.equal(err.attempts, 1);
});

test('abort: rejects at once with kind aborted, and nothing is resent after it', async () => {
  const url = server.script('/abort-hang', ['hang']);
  const client = await createClient(fast);
  const controller = new AbortController();
  const call = client.fetch(url, { method: 'POST', body: 'v', signal: controller.signal }).catch((e) => e);
  await until(() => server.requests('/abort-hang').length === 1, 5000, 'the attempt to arrive');
  controller.abort(new Error('user left'));
  const err = await call;
  assert.equal(err.kind, 'aborted');
  assert.equal(err.cause.message, 'user left');
  assert.equal(err.attempts, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.requests('/abort-hang').length, 1);
});

test('abort during the wait between attempts ends the wait', async () => {
  const url = server.script('/abort-wait', [503]);
  const client = await createClient({ baseDelayMs: 60_000, maxDelayMs: 60_000, seed: 3 });
  const controller = new AbortController();
  client.on('retry', () => controller.abort());
  const err = await client.fetch(url, { signal: controller.signal }).catch((e) => e);
  assert.equal(err.kind, 'aborted');
  assert.equal(server.requests('/abort-wait').length, 1);
});

test('an already-aborted signal sends nothing', async () => {
  const url = server.script('/pre-aborted', [200]);
  const client = await createClient(fast);
  const err = await client.fetch(url, { method: 'POST', signal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(err.kind, 'aborted');
  assert.equal(server.requests('/pre-aborted').length, 0);
});

test('breaker: opens after failureThreshold, fails fast, then one probe closes it', async () => {
  const url = server.script('/breaker', [503, 503, 200]);
  const client = await createClient({ ...fast, maxAttempts: 1, breaker: { failureThreshold: 2, cooldownMs: 200 } });
  const states = [];
  client.on('breaker', (e) => states.push(e.state));
  assert.equal((await client.fetch(url)).status, 503);
  assert.equal((await client.fetch(url)).status, 503);
  const err = await client.fetch(url).catch((e) => e);
  assert.equal(err.kind, 'circuit-open');
  assert.equal(err.origin, server.url);
  assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 200, `retryAfterMs ${err.retryAfterMs}`);
  assert.equal(server.requests('/breaker').length, 2, 'nothing reached the server while open');
  await new Promise((r) => setTimeout(r, err.retryAfterMs + 10));
  assert.equal((await client.fetch(url)).status, 200);
  assert.deepEqual(states, ['open', 'half-open', 'closed']);
});

test('same explicit key, same request: joins the operation in flight; both get the result', async () => {
  const url = server.script('/join', ['drop', 200]);
  const client = await createClient(fast);
  const init = { method: 'POST', body: 'pay 10', idempotencyKey: 'order-1' };
  const [a, b] = await Promise.all([client.fetch(url, init), client.fetch(url, { ...init })]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.deepEqual(await a.json(), await b.json());
  assert.equal(server.requests('/join').length, 2, 'one operation: 2 attempts, not 4');
  assert.ok(server.requests('/join').every((r) => r.key === 'order-1'));
});

test('same key, different body: refused with key-reuse before anything is sent', async () => {
  const url = server.script('/reuse', ['hang']);
  const client = await createClient({ ...fast, attemptTimeoutMs: 300, maxAttempts: 1 });
  const first = client.fetch(url, { method: 'POST', body: 'A', idempotencyKey: 'k-1' }).catch((e) => e);
  await until(() => server.requests('/reuse').length === 1);
  const err = await client.fetch(url, { method: 'POST', body: 'B', idempotencyKey: 'k-1' }).catch((e) => e);
  assert.equal(err.kind, 'key-reuse');
  assert.equal(err.key, 'k-1');
  assert.equal(server.requests('/reuse').length, 1);
  await first;
});

test('a key set as a header is used as the operation key', async () => {
  const url = server.script('/header-key', ['drop', 200]);
  const client = await createClient(fast);
  await client.fetch(url, { method: 'POST', headers: { 'Idempotency-Key': 'from-header' }, body: 'x' });
  assert.deepEqual(server.requests('/header-key').map((r) => r.key), ['from-header', 'from-header']);
});

test('idempotencyHeader renames the header', async () => {
  const url = server.script('/custom-header', [200]);
  const client = await createClient({ ...fast, idempotencyHeader: 'X-Request-Id' });
  await client.fetch(url, { method: 'DELETE' });
  const [req] = server.requests('/custom-header');
  assert.equal(req.key, null);
  assert.match(req.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

test('seed makes jitter deterministic; every wait is within the full-jitter window', async () => {
  const delays = [];
  for (const run of [0, 1]) {
    const url = server.script(`/seeded-${run}`, [503]);
    const client = await createClient({ baseDelayMs: 2, maxDelayMs: 10, maxAttempts: 6, seed: 99, breaker: false });
    const events = record(client, 'retry');
    await client.fetch(url);
    delays.push(events.map((e) => e.delayMs));
  }
  assert.deepEqual(delays[0], delays[1]);
  delays[0].forEach((d, n) => assert.ok(d >= 0 && d <= Math.min(10, 2 * 2 ** n), `wait ${n}: ${d}`));
});

test('events: attempt carries key, method, url and attempt number', async () => {
  const url = server.script('/events', ['drop', 200]);
  const client = await createClient(fast);
  const events = record(client, 'attempt');
  await client.fetch(url, { method: 'PATCH', body: 'p' });
  assert.deepEqual(events.map((e) => [e.method, e.url, e.attempt]), [['PATCH', url, 1], ['PATCH', url, 2]]);
  assert.equal(events[0].key, events[1].key);
});

test('a throwing listener does not break the call or other listeners', async () => {
  const url = server.script('/bad-listener', [200]);
  const client = await createClient(fast);
  const seen = [];
  const reported = [];
  const saved = console.error;
  console.error = (e) => reported.push(e);
  try {
    client.on('settled', () => { throw new Error('listener bug'); });
    client.on('settled', (e) => seen.push(e.status));
    assert.equal((await client.fetch(url)).status, 200);
  } finally {
    console.error = saved;
  }
  assert.deepEqual(seen, [200]);
  assert.equal(reported[0].message, 'listener bug');
});

test('unsubscribe stops delivery', async () => {
  const url = server.script('/unsub', [200]);
  const client = await createClient(fast);
  let count = 0;
  const off = client.on('attempt', () => count++);
  await client.fetch(url);
  off();
  await client.fetch(url);
  assert.equal(count, 1);
});

test('close: later calls are refused with kind closed', async () => {
  const client = await createClient(fast);
  await client.close();
  const err = await client.fetch(server.url + '/x').catch((e) => e);
  assert.equal(err.kind, 'closed');
});

test('the package under test is the installed tarball, not the source tree', () => {
  const resolved = import.meta.resolve('durafetch');
  assert.match(resolved, /\/node_modules\/durafetch\/node\.js$/);
});

test('the retry budget: retries stop when the origin has spent it, first attempts never do', async () => {
  const url = server.script('/budget', [503]);
  const retryBudget = { capacity: 10, retryCost: 5, timeoutCost: 10, refillPerSecond: 1 };
  const client = await createClient({ ...fast, breaker: false, retryBudget });
  const events = record(client, 'giveup');
  // 10 tokens: two retries of 5 for the first call, none for the second.
  assert.equal((await client.fetch(url, { method: 'POST', body: 'a', durable: false })).status, 503);
  assert.equal((await client.fetch(url, { method: 'POST', body: 'b', durable: false })).status, 503);
  const reqs = server.requests('/budget');
  assert.deepEqual([...new Set(reqs.map((r) => r.key))].map((k) => reqs.filter((r) => r.key === k).length), [3, 1]);
  assert.deepEqual(events.map((e) => [e.reason, e.attempts, e.status]), [['budget', 3, 503], ['budget', 1, 503]]);

  // Another origin has its own bucket; no answer at all: a retry costs 10,
  // so one goes, then 'exhausted', saying the budget is why.
  const down = `http://127.0.0.1:1/unreachable`;
  const error = await client.fetch(down, { method: 'POST', body: 'c', durable: false }).catch((e) => e);
  assert.equal(error.kind, 'exhausted');
  assert.equal(error.reason, 'budget');
  assert.equal(error.attempts, 2);
  assert.match(error.message, /retry budget is spent/);
  await client.close();
});
