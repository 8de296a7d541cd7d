// A rotated token must not run a handler twice. The real durafetch client
// sends an order; its answer is dropped after the server applied it; the
// page "reloads" (a second client on the same durable store) and resends it
// with a refreshed token put back by beforeReplay. Under the default scope
// (the Authorization header) the resend is another caller: refused with 403
// problem+json, no second effect, no answer leaked. With
// `scope: (req) => accountId` it is the same caller: the stored answer is
// replayed. Another account sending the key gets neither a run nor the answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'durafetch';
import { idempotent, toNodeListener, memoryStore } from 'durafetch/server';
import { FileStore } from '../file-store.js';

const dirs = [];
const servers = [];
after(async () => {
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An order API whose first answer is dropped after the order was applied. */
async function orderApi(options) {
  const effects = [];
  const handler = idempotent(async (request) => {
    effects.push(request.headers.get('authorization'));
    return Response.json({ order: effects.length, by: request.headers.get('x-account') }, { status: 201 });
  }, { store: memoryStore(), ...options });
  const listener = toNodeListener(handler);
  let dropNext = true;
  const server = http.createServer((req, res) => {
    if (dropNext) {
      dropNext = false;
      res.writeHead = () => { req.socket.destroy(); return res; }; // applied, then the connection dies
      res.end = () => res;
    }
    listener(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${server.address().port}/orders`, effects };
}

async function dropThenReload(api) {
  const dir = mkdtempSync(join(tmpdir(), 'durafetch-scope-'));
  dirs.push(dir);
  const fast = { baseDelayMs: 5, maxDelayMs: 20, seed: 7, store: new FileStore(dir) };
  const first = await createClient({ ...fast, maxAttempts: 1 });
  const queued = await first.fetch(api.url, {
    method: 'POST', headers: { authorization: 'Bearer before-refresh', 'x-account': 'acct-1', 'content-type': 'application/json' },
    body: '{"item":"tea"}',
  }).catch((e) => e);
  assert.equal(queued.kind, 'queued', 'the answer was lost: the order stays in the outbox');
  await first.close();
  // The reload: a new client on the same outbox, whose token was refreshed.
  const second = await createClient({ ...fast, beforeReplay: (request) => { request.headers.set('authorization', 'Bearer after-refresh'); } });
  const settled = await new Promise((resolve) => second.on('settled', resolve));
  await second.close();
  return { key: queued.key, settled };
}

test('default scope (Authorization): the resend with a refreshed token is refused 403, the order applied once', async () => {
  const api = await orderApi({});
  const { key, settled } = await dropThenReload(api);
  assert.equal(settled.status, 403, 'another scope: refused, the handler did not run');
  assert.deepEqual(api.effects, ['Bearer before-refresh'], 'one effect');
  const body = await settled.response.json();
  assert.equal(body.status, 403);
  assert.match(body.detail, /another caller/);
  // Another caller with the key: neither the answer nor a run.
  const other = await fetch(api.url, { method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body: '{"item":"tea"}' });
  assert.equal(other.status, 403);
  assert.doesNotMatch(await other.text(), /"order"/);
  assert.equal(api.effects.length, 1);
});

test('scope: the account: the resend with a refreshed token replays the stored answer; another account gets 403', async () => {
  const api = await orderApi({ scope: (request) => request.headers.get('x-account') });
  const { key, settled } = await dropThenReload(api);
  assert.equal(settled.status, 201);
  assert.equal(settled.response.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await settled.response.json(), { order: 1, by: 'acct-1' }, 'the answer of the one run');
  assert.deepEqual(api.effects, ['Bearer before-refresh'], 'one effect');
  const other = await fetch(api.url, { method: 'POST', headers: { 'idempotency-key': key, 'x-account': 'acct-2', 'content-type': 'application/json' }, body: '{"item":"tea"}' });
  assert.equal(other.status, 403);
  assert.doesNotMatch(await other.text(), /"order"/);
  assert.equal(api.effects.length, 1);
});
