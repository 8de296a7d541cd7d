// What "survived a dropped response" means, checked the same way for every
// runtime: one key on every attempt, the effect applied once, and the
// caller got the origin's stored answer as a real Response.
import assert from 'node:assert/strict';
import { ORDER } from './fixtures/scenario.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function expectSurvivedDrop(result, server, where) {
  assert.equal(result.ok, true, `${where}: client.fetch failed: ${JSON.stringify(result.error)}`);
  const attemptKeys = new Set(result.events.filter((e) => e.type === 'attempt').map((e) => e.key));
  assert.equal(attemptKeys.size, 1, `${where}: one key for the whole operation`);
  const [key] = attemptKeys;
  assert.match(key, UUID, `${where}: the key is a UUID v4`);

  const sequence = result.events.map((e) => `${e.type} ${e.attempt ?? e.attempts}`);
  assert.deepEqual(sequence, ['attempt 1', 'retry 1', 'attempt 2', 'settled 2'], where);
  const retry = result.events.find((e) => e.type === 'retry');
  assert.equal(retry.reason, 'network', `${where}: the dropped answer is a network failure`);
  assert.equal(result.events.at(-1).status, 201);

  const receipts = server.dropsPerKey + 1;
  assert.equal(server.attempts(key), receipts, `${where}: the origin got every send with the same key`);
  assert.equal(server.effects(key), 1, `${where}: the order was applied exactly once`);
  assert.equal(server.unkeyed(), 0, `${where}: no attempt went out without a key`);

  assert.equal(result.isResponse, true, `${where}: the caller got a real Response`);
  assert.equal(result.status, 201);
  assert.equal(result.replayed, 'true', `${where}: the answer is the stored one`);
  assert.deepEqual(result.body, server.answer(key));
  assert.deepEqual(result.body.received, ORDER);
  assert.equal(result.pendingAfter, 0, `${where}: nothing left pending`);
  return key;
}
