// Every bad option is refused by name with the accepted range, before anything is sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, DurafetchError } from 'durafetch';
import { startTestServer } from './scripted-server.js';

let server;
before(async () => { server = await startTestServer(); });
after(async () => { await server.close(); });

const bad = [
  [{ maxAttempts: 0 }, 'maxAttempts', /integer from 1 to 1000/],
  [{ maxAttempts: 2.5 }, 'maxAttempts', /integer/],
  [{ maxAttempts: '3' }, 'maxAttempts', /got "3"/],
  [{ baseDelayMs: -1 }, 'baseDelayMs', /from 0 to 2147483647/],
  [{ baseDelayMs: NaN }, 'baseDelayMs', /got NaN/],
  [{ maxDelayMs: Infinity }, 'maxDelayMs', /milliseconds/],
  [{ deadlineMs: 0 }, 'deadlineMs', /from 1/],
  [{ attemptTimeoutMs: 'soon' }, 'attemptTimeoutMs', /milliseconds/],
  [{ retryOn: 503 }, 'retryOn', /array of HTTP statuses/],
  [{ retryOn: [503, 99] }, 'retryOn', /100 to 599/],
  [{ idempotencyHeader: 'Bad Header' }, 'idempotencyHeader', /header name/],
  [{ breaker: 3 }, 'breaker', /false, or an object/],
  [{ breaker: { failureThreshold: 0 } }, 'breaker.failureThreshold', /1 to 1000/],
  [{ breaker: { cooldown: 5 } }, 'breaker.cooldown', /failureThreshold, cooldownMs/],
  [{ store: 'redis' }, 'store', /'memory'/],
  [{ store: { get() {} } }, 'store', /get, put, delete and list/],
  [{ ttlMs: -5 }, 'ttlMs', /milliseconds/],
  [{ redactHeaders: 'authorization' }, 'redactHeaders', /array of header names/],
  [{ seed: -1 }, 'seed', /integer from 0/],
  [{ fetch: 'fetch' }, 'fetch', /a function/],
  [{ maxAtempts: 3 }, 'maxAtempts', /a known option/],
  [{ retryBudget: 500 }, 'retryBudget', /false, or an object \{ capacity/],
  [{ retryBudget: { capacity: 0 } }, 'retryBudget.capacity', /1 to 1000000/],
  [{ retryBudget: { refillPerSecond: 0.5 } }, 'retryBudget.refillPerSecond', /integer/],
  [{ retryBudget: { capacity: 8 } }, 'retryBudget.timeoutCost', /at most|the budget's capacity/],
  [{ retryBudget: { tokens: 5 } }, 'retryBudget.tokens', /capacity, retryCost, timeoutCost, refillPerSecond/],
  [{ tracer: {} }, 'tracer', /OpenTelemetry Tracer/],
  [{ traceContext: 1 }, 'traceContext', /a function/],
];

for (const [options, option, expected] of bad) {
  test(`rejects ${JSON.stringify(options) ?? String(options)}`, async () => {
    const err = await createClient(options).catch((e) => e);
    assert.ok(DurafetchError.is(err), String(err));
    assert.equal(err.kind, 'invalid-option');
    assert.equal(err.option, option);
    assert.match(err.message, new RegExp(`^Invalid option ${option.replace('.', '\\.')}: expected `));
    assert.match(err.message, expected);
  });
}

test('options must be an object', async () => {
  for (const options of [42, 'x', [1]]) {
    const err = await createClient(options).catch((e) => e);
    assert.equal(err.kind, 'invalid-option');
    assert.equal(err.option, 'options');
  }
});

test('undefined values and no options mean the defaults', async () => {
  // No options: a memory store in Node, a keyed POST retried with one key.
  const url = server.script('/defaults', [503, 201]);
  const plain = await createClient();
  assert.equal(plain.store, 'memory');
  assert.equal((await plain.fetch(url, { method: 'POST', body: 'x' })).status, 201);
  const sent = server.requests('/defaults');
  assert.equal(sent.length, 2);
  assert.match(sent[0].key, /^[0-9a-f-]{36}$/, 'the Idempotency-Key header');
  assert.equal(sent[1].key, sent[0].key);
  await plain.close();
  // maxAttempts: undefined is the default 5.
  const five = server.script('/five', [503, 503, 503, 503, 503]);
  const client = await createClient({ maxAttempts: undefined, baseDelayMs: 1, maxDelayMs: 1 });
  // Attempts spent on a retryable status: the caller gets the last answer.
  const last = await client.fetch(five, { method: 'POST', body: 'x' });
  assert.equal(last.status, 503);
  assert.equal(server.requests('/five').length, 5);
  await client.close();
  const adapter = await createClient({ store: new (class { async get() {} async put() {} async delete() {} async list() { return []; } })() });
  assert.equal(adapter.store, 'adapter');
  await adapter.close();
  // A budget turned off, or one whose retry costs its whole capacity.
  for (const retryBudget of [false, { capacity: 10, retryCost: 10, timeoutCost: 10, refillPerSecond: 2 }]) {
    await (await createClient({ retryBudget })).close();
  }
});

test('per-call extras are validated too', async () => {
  const client = await createClient();
  for (const [init, option] of [[{ idempotencyKey: '' }, 'idempotencyKey'], [{ idempotencyKey: 'has space' }, 'idempotencyKey'],
    [{ idempotencyKey: 7 }, 'idempotencyKey'], [{ durable: 'yes' }, 'durable']]) {
    const err = await client.fetch('http://127.0.0.1:9/never-sent', { method: 'POST', ...init }).catch((e) => e);
    assert.equal(err.kind, 'invalid-option');
    assert.equal(err.option, option);
  }
});

test('on() refuses unknown event types and non-functions', async () => {
  const client = await createClient();
  assert.throws(() => client.on('retired', () => {}), (e) => e.kind === 'invalid-option' && /'retry'/.test(e.message));
  assert.throws(() => client.on('retry', 'nope'), (e) => e.kind === 'invalid-option');
});
