// What "queued, then resumed by a new client" means, checked the same way
// in every runtime with a persistent store (see fixtures/outbox-scenario.js):
// the first client stores the operation and gives up with kind 'queued';
// the next client resends it with the same key, gets the origin's stored
// answer as a 'settled' event (resumed: true) and the effect stays single.
import assert from 'node:assert/strict';
import { ORDER } from './fixtures/scenario.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const sequence = (events) => events.map((e) => `${e.type} ${e.attempt ?? e.attempts}${e.resumed ? ' resumed' : ''}`);

/** Returns the operation's key. */
export function expectQueued(queued, server, store, where) {
  assert.equal(queued.ok, false, `${where}: the first client must not get an answer`);
  assert.equal(queued.store, store, `${where}: client.store`);
  const { error } = queued;
  assert.equal(error.kind, 'queued', `${where}: ${error.message}`);
  assert.equal(error.reason, 'exhausted');
  assert.equal(error.attempts, 1);
  assert.match(error.key, UUID);
  assert.deepEqual(sequence(queued.events), ['attempt 1', 'queued 1'], where);
  assert.deepEqual(queued.pending.map(({ key, attempts, durable }) => ({ key, attempts, durable })),
    [{ key: error.key, attempts: 1, durable: true }], `${where}: stored, one attempt made`);
  assert.equal(server.attempts(error.key), server.dropsPerKey, `${where}: every send was dropped`);
  assert.equal(server.effects(error.key), 1, `${where}: the order was applied once`);
  return error.key;
}

export function expectResumed(resumed, key, server, store, where) {
  assert.equal(resumed.ok, true, `${where}: ${resumed.error?.message}`);
  assert.equal(resumed.store, store, `${where}: client.store`);
  assert.deepEqual(resumed.settled, { key, status: 201, attempts: 2, resumed: true }, where);
  assert.deepEqual(sequence(resumed.events), ['attempt 2 resumed', 'settled 2 resumed'], where);
  assert.equal(resumed.isResponse, true, `${where}: 'settled' carries a real Response`);
  assert.equal(resumed.replayed, 'true', `${where}: the answer is the stored one`);
  assert.deepEqual(resumed.body, server.answer(key));
  assert.deepEqual(resumed.body.received, ORDER);
  assert.deepEqual(resumed.kept, { status: 201, body: server.answer(key) }, `${where}: result(key) reads the kept answer`);
  assert.equal(resumed.readOnce, true, `${where}: a second result(key) gets null`);
  assert.equal(resumed.pendingAfter, 0, `${where}: nothing left pending`);
  assert.equal(server.attempts(key), server.dropsPerKey + 1, `${where}: resent once more, same key`);
  assert.equal(server.effects(key), 1, `${where}: still applied exactly once`);
  assert.equal(server.unkeyed(), 0);
}
