// Every replayable body kind is resent byte for byte; a stream is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'durafetch';
import { startTestServer } from './scripted-server.js';

let server;
before(async () => { server = await startTestServer(); });
after(() => server.close());

const fast = { baseDelayMs: 1, maxDelayMs: 5, seed: 2 };
const bodies = {
  string: () => 'plain text',
  arrayBuffer: () => new TextEncoder().encode('array buffer').buffer,
  uint8Array: () => new Uint8Array([0, 1, 2, 255]),
  dataView: () => new DataView(new Uint8Array([9, 8, 7]).buffer),
  blob: () => new Blob(['blob ', 'parts'], { type: 'text/x-blob' }),
  urlSearchParams: () => new URLSearchParams({ a: '1', b: 'two words' }),
  formData: () => {
    const f = new FormData();
    f.set('field', 'value');
    f.set('file', new Blob(['file bytes']), 'f.txt');
    return f;
  },
};

for (const [name, make] of Object.entries(bodies)) {
  test(`${name} body: the resend carries the same bytes and content-type`, async () => {
    const url = server.script(`/body-${name}`, ['drop', 200]);
    const client = await createClient(fast);
    const res = await client.fetch(url, { method: 'POST', body: make() });
    assert.equal(res.status, 200);
    const [a, b] = server.requests(`/body-${name}`);
    assert.ok(a.body.length > 0, 'the body was sent');
    assert.deepEqual(b.body, a.body);
    assert.equal(b.headers['content-type'], a.headers['content-type']);
    assert.equal(a.key, b.key);
  });
}

test('a Request as input keeps its body on every attempt', async () => {
  const url = server.script('/body-request', ['drop', 'drop', 200]);
  const client = await createClient(fast);
  const request = new Request(url, { method: 'POST', body: 'from a Request', headers: { 'x-trace': 't1' } });
  const res = await client.fetch(request);
  assert.equal(res.status, 200);
  const reqs = server.requests('/body-request');
  assert.equal(reqs.length, 3);
  assert.ok(reqs.every((r) => r.body.toString() === 'from a Request' && r.headers['x-trace'] === 't1'));
});

test('a ReadableStream body is refused with not-replayable before anything is sent', async () => {
  const url = server.script('/body-stream', [200]);
  const client = await createClient(fast);
  const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('once')); c.close(); } });
  const err = await client.fetch(url, { method: 'POST', body: stream, duplex: 'half' }).catch((e) => e);
  assert.equal(err.kind, 'not-replayable');
  assert.match(err.message, /ReadableStream/);
  assert.equal(server.requests('/body-stream').length, 0);
});

test('an invalid URL is an invalid-request error with the cause', async () => {
  const client = await createClient(fast);
  const err = await client.fetch('not a url').catch((e) => e);
  assert.equal(err.kind, 'invalid-request');
  assert.ok(err.cause instanceof TypeError);
});
