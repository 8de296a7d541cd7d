// Tests for the durafetch demo server: real HTTP against 127.0.0.1:0.
// Run: node --test demo/server.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemoServer } from './server.js';

// Start a server, run fn, always close it (even when an assertion fails).
async function withServer(opts, fn) {
  const srv = await startDemoServer({ port: 0, host: '127.0.0.1', ...opts });
  try { return await fn(srv); } finally { await srv.close(); }
}

// Deterministic random(): returns the scripted values, then 0.999 (never triggers chaos < 0.999).
const scripted = (...values) => { let i = 0; return () => (i < values.length ? values[i++] : 0.999); };

const order = (srv, body, key, extraHeaders = {}) => fetch(new URL('/orders', srv.url), {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}), ...extraHeaders },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const json = (srv, p, init) => fetch(new URL(p, srv.url), init).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() }));
const stats = (srv) => json(srv, '/stats').then((r) => r.body);
const chaos = (srv, patch) => json(srv, '/chaos', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(patch) });

// Raw request without URL normalisation (fetch would resolve '/../' client-side).
function rawGet(port, rawPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end();
  });
}

const coffee = { item: 'coffee', qty: 1, clientOrderId: 'c1' };

test('first keyed request applies the effect once and returns 201', () => withServer({}, async (srv) => {
  const res = await order(srv, coffee, 'k1');
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { orderId: 'ord_1', key: 'k1', item: 'coffee', qty: 1 });
  assert.equal(res.headers.get('idempotent-replayed'), null);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.orders, 1);
  assert.equal(s.keys, 1);
  assert.equal(s.duplicateEffects, 0);
}));

test('retry after completion replays the stored response without applying again', () => withServer({}, async (srv) => {
  const first = await order(srv, coffee, 'k1');
  const firstBody = await first.text();
  const again = await order(srv, coffee, 'k1');
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(await again.text(), firstBody);
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.duplicatesSuppressed, 1);
  assert.equal(s.duplicateEffects, 0);
}));

test('concurrent retry while the first is processing gets 409', () => withServer({}, async (srv) => {
  await chaos(srv, { latencyMs: 300 });
  const firstP = order(srv, coffee, 'k1');
  // Bounded wait until the first request is inside the handler (its key claimed).
  for (let i = 0; i < 200 && srv.state.counters.effectsApplied === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(srv.state.counters.effectsApplied, 1);
  const second = await order(srv, coffee, 'k1');
  assert.equal(second.status, 409);
  assert.equal(second.headers.get('retry-after'), '1');
  assert.equal(second.headers.get('content-type'), 'application/problem+json');
  assert.match((await second.json()).detail, /still being processed/);
  const first = await firstP;
  assert.equal(first.status, 201);
  await first.text();
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.conflicts409, 1);
}));

test('same key with a different payload gets 422', () => withServer({}, async (srv) => {
  assert.equal((await order(srv, coffee, 'k1')).status, 201);
  const res = await order(srv, { ...coffee, qty: 2 }, 'k1');
  assert.equal(res.status, 422);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match((await res.json()).detail, /already used for a different request/);
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.mismatches422, 1);
}));

test('keys expire after retentionMs (injected clock)', async () => {
  let t = 1_000_000;
  await withServer({ retentionMs: 60_000, now: () => t }, async (srv) => {
    assert.equal((await order(srv, coffee, 'k1')).status, 201);
    t += 59_999; // still retained -> replay
    const replay = await order(srv, coffee, 'k1');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    await replay.text();
    t += 1; // exactly retentionMs old -> expired, treated as new
    const fresh = await order(srv, coffee, 'k1');
    assert.equal(fresh.status, 201);
    assert.equal(fresh.headers.get('idempotent-replayed'), null);
    assert.equal((await fresh.json()).orderId, 'ord_2');
    const s = await stats(srv);
    assert.equal(s.effectsApplied, 2);
    assert.equal(s.duplicateEffects, 1); // same clientOrderId applied twice
    assert.equal(s.keys, 1);
    t += 60_000;
    assert.equal((await stats(srv)).keys, 0);
  });
});

test('no key: applied every time and counted as duplicate effects', () => withServer({}, async (srv) => {
  for (let i = 0; i < 3; i++) {
    const r = await order(srv, coffee);
    assert.equal(r.status, 201);
    assert.equal((await r.json()).key, null);
  }
  await (await order(srv, { ...coffee, clientOrderId: 'c2' })).text();
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 4);
  assert.equal(s.unkeyedEffects, 4);
  assert.equal(s.duplicateEffects, 2); // c1 applied 3x -> 2 duplicates, c2 once -> 0
  assert.equal(s.keys, 0);
}));

test('dropAfterProcessing: fetch fails but the effect is applied; retry replays 201', () => withServer({}, async (srv) => {
  await chaos(srv, { dropAfterProcessing: 1 });
  await assert.rejects(order(srv, coffee, 'k1'));
  let s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.dropped, 1);
  await chaos(srv, { dropAfterProcessing: 0 });
  const retry = await order(srv, coffee, 'k1');
  assert.equal(retry.status, 201);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await retry.json(), { orderId: 'ord_1', key: 'k1', item: 'coffee', qty: 1 });
  s = await stats(srv);
  assert.equal(s.effectsApplied, 1);
  assert.equal(s.duplicatesSuppressed, 1);
}));

test('error503=1 answers 503 before processing', () => withServer({}, async (srv) => {
  await chaos(srv, { error503: 1 });
  const res = await order(srv, coffee, 'k1');
  assert.equal(res.status, 503);
  await res.text();
  const s = await stats(srv);
  assert.equal(s.errors503, 1);
  assert.equal(s.effectsApplied, 0);
  assert.equal(s.keys, 0); // key not claimed, so a retry is processed normally
}));

test('rateLimit429 answers 429 with Retry-After (scripted random)', () => withServer({ random: scripted(0.4, 0.6) }, async (srv) => {
  await chaos(srv, { rateLimit429: 0.5, retryAfterSeconds: 7 });
  const limited = await order(srv, coffee, 'k1');
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  await limited.text();
  const ok = await order(srv, coffee, 'k1'); // random() = 0.6 >= 0.5 -> passes
  assert.equal(ok.status, 201);
  await ok.text();
  const s = await stats(srv);
  assert.equal(s.rateLimited429, 1);
  assert.equal(s.effectsApplied, 1);
}));

test('offline destroys the socket without processing', () => withServer({}, async (srv) => {
  await chaos(srv, { offline: true });
  await assert.rejects(order(srv, coffee, 'k1'));
  await chaos(srv, { offline: false });
  assert.equal((await stats(srv)).effectsApplied, 0);
}));

test('chaos knobs: GET, merge on PUT, 400 on bad knob or range', () => withServer({}, async (srv) => {
  assert.deepEqual((await json(srv, '/chaos')).body, {
    dropAfterProcessing: 0, error503: 0, rateLimit429: 0, retryAfterSeconds: 1, latencyMs: 0, offline: false,
    refuseShipping: false,
  });
  assert.equal((await chaos(srv, { error503: 0.25 })).body.error503, 0.25);
  assert.equal((await chaos(srv, { latencyMs: 10 })).body.error503, 0.25); // merged, not replaced
  const unknown = await chaos(srv, { explode: 1 });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /explode/);
  const range = await chaos(srv, { error503: 1.5 });
  assert.equal(range.status, 400);
  assert.match(range.body.error, /error503.*0 to 1/);
  const bool = await chaos(srv, { offline: 'yes' });
  assert.equal(bool.status, 400);
  assert.match(bool.body.error, /offline/);
  assert.equal((await json(srv, '/chaos')).body.error503, 0.25); // rejected patches change nothing
}));

test('reset clears orders, keys and counters but keeps chaos unless asked', () => withServer({}, async (srv) => {
  await (await order(srv, coffee, 'k1')).text();
  await chaos(srv, { latencyMs: 5 });
  await json(srv, '/reset', { method: 'POST' });
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 0);
  assert.equal(s.orders, 0);
  assert.equal(s.keys, 0);
  assert.equal((await json(srv, '/chaos')).body.latencyMs, 5);
  const r = await json(srv, '/reset', { method: 'POST', body: JSON.stringify({ chaos: true }) });
  assert.equal(r.body.chaos.latencyMs, 0);
}));

test('invalid order body is a 400, not applied, and (a 4xx) stored for its key', () => withServer({}, async (srv) => {
  assert.equal((await order(srv, '{nope', 'k1')).status, 400);
  assert.equal((await order(srv, { qty: 1 }, 'k2')).status, 400);
  const again = await order(srv, { qty: 1 }, 'k2');
  assert.equal(again.status, 400);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  const s = await stats(srv);
  assert.equal(s.effectsApplied, 0);
  assert.equal(s.keys, 2);
}));

test('a bad key is 400 problem+json and not applied', () => withServer({}, async (srv) => {
  const res = await order(srv, coffee, 'k'.repeat(256));
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match((await res.json()).detail, /longer than 255/);
  assert.equal((await stats(srv)).effectsApplied, 0);
}));

test('OPTIONS preflight answers 204 with CORS headers', () => withServer({}, async (srv) => {
  const res = await fetch(new URL('/orders', srv.url), {
    method: 'OPTIONS',
    headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'idempotency-key' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-headers'), /Idempotency-Key/);
  assert.match(res.headers.get('access-control-allow-methods'), /POST/);
  assert.match(res.headers.get('access-control-expose-headers'), /Retry-After/);
  assert.match(res.headers.get('access-control-expose-headers'), /Idempotent-Replayed/);
}));

const step = (srv, method, p, body, key) => json(srv, p, {
  method,
  headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

test('checkout: charge, reserve, ship, each applied once per key and counted per run and step', () => withServer({}, async (srv) => {
  const charge = await step(srv, 'POST', '/charges', { checkout: 'co-1', amount: 42 }, 'co-1:s0');
  assert.equal(charge.status, 201);
  assert.deepEqual(charge.body, { id: 'ch_1', checkout: 'co-1', amount: 42 });
  const again = await step(srv, 'POST', '/charges', { checkout: 'co-1', amount: 42 }, 'co-1:s0');
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, charge.body);
  const hold = await step(srv, 'POST', '/holds', { checkout: 'co-1', item: 'coffee', charge: 'ch_1' }, 'co-1:s1');
  assert.equal(hold.status, 201);
  const ship = await step(srv, 'POST', '/shipments', { checkout: 'co-1', hold: hold.body.id }, 'co-1:s2');
  assert.equal(ship.status, 201);
  assert.equal(ship.body.hold, hold.body.id);
  const s = (await stats(srv)).checkout;
  assert.deepEqual(s.effects, { charge: 1, reserve: 1, ship: 1, release: 0 });
  assert.equal(s.duplicateEffects, 0);
  assert.equal(s.duplicatesSuppressed, 1);
  assert.deepEqual(s.runs['co-1'], {
    charge: { requests: 2, effects: 1 }, reserve: { requests: 1, effects: 1 },
    ship: { requests: 1, effects: 1 }, release: { requests: 0, effects: 0 },
  });
  assert.equal((await stats(srv)).effectsApplied, 0, 'the order counters are the orders\' alone');
}));

test('checkout: DELETE /holds/:id releases once (the reserve step\'s undo); unknown holds are 404', () => withServer({}, async (srv) => {
  const hold = await step(srv, 'POST', '/holds', { checkout: 'co-2', item: 'tea', charge: 'ch_9' }, 'k-hold');
  const release = await step(srv, 'DELETE', `/holds/${hold.body.id}`, undefined, 'k-undo');
  assert.equal(release.status, 200);
  assert.deepEqual(release.body, { id: hold.body.id, checkout: 'co-2', released: true });
  assert.equal((await step(srv, 'DELETE', `/holds/${hold.body.id}`, undefined, 'k-undo')).headers.get('idempotent-replayed'), 'true');
  assert.equal((await step(srv, 'DELETE', `/holds/${hold.body.id}`, undefined, 'k-other')).status, 200, 'another key: nothing left to release');
  assert.equal((await step(srv, 'DELETE', '/holds/hold_404', undefined, 'k-404')).status, 404);
  const s = (await stats(srv)).checkout;
  assert.deepEqual(s.runs['co-2'].release, { requests: 3, effects: 1 });
  assert.equal(s.duplicateEffects, 0);
}));

test('checkout: the same chaos knobs (a dropped answer, a 503) and reset', () => withServer({}, async (srv) => {
  await chaos(srv, { dropAfterProcessing: 1 });
  await assert.rejects(step(srv, 'POST', '/charges', { checkout: 'co-3', amount: 1 }, 'k1'));
  await chaos(srv, { dropAfterProcessing: 0, error503: 1 });
  assert.equal((await step(srv, 'POST', '/charges', { checkout: 'co-3', amount: 1 }, 'k1')).status, 503);
  await chaos(srv, { error503: 0 });
  const resent = await step(srv, 'POST', '/charges', { checkout: 'co-3', amount: 1 }, 'k1');
  assert.equal(resent.headers.get('idempotent-replayed'), 'true');
  let s = (await stats(srv)).checkout;
  assert.deepEqual([s.dropped, s.errors503, s.duplicatesSuppressed], [1, 1, 1]);
  assert.deepEqual(s.runs['co-3'].charge, { requests: 2, effects: 1 }, 'a 503 is refused in front of the API');
  await json(srv, '/reset', { method: 'POST' });
  s = (await stats(srv)).checkout;
  assert.deepEqual([s.dropped, s.effects.charge, s.runs], [0, 0, {}]);
}));

test('checkout: refuseShipping answers 422 without shipping (a handler\'s 422, not a key mismatch)', () => withServer({}, async (srv) => {
  const hold = await step(srv, 'POST', '/holds', { checkout: 'co-5', item: 'tea', charge: 'ch_1' }, 'h');
  await chaos(srv, { refuseShipping: true });
  const refused = await step(srv, 'POST', '/shipments', { checkout: 'co-5', hold: hold.body.id }, 's');
  assert.equal(refused.status, 422);
  assert.match(refused.body.error, /cannot ship/);
  const s = (await stats(srv)).checkout;
  assert.deepEqual(s.runs['co-5'].ship, { requests: 1, effects: 0 });
  assert.equal(s.mismatches422, 0);
}));

test('checkout: invalid bodies are 400 and apply nothing', () => withServer({}, async (srv) => {
  assert.equal((await step(srv, 'POST', '/charges', { amount: 1 }, 'a')).status, 400);
  assert.equal((await step(srv, 'POST', '/charges', { checkout: 'co-4', amount: 0 }, 'b')).status, 400);
  assert.equal((await step(srv, 'POST', '/holds', { checkout: 'co-4', item: 'tea' }, 'c')).status, 400);
  assert.equal((await step(srv, 'POST', '/shipments', { checkout: 'co-4', hold: 'hold_404' }, 'd')).status, 400);
  assert.equal((await json(srv, '/charges')).status, 404, 'GET is no step');
  assert.deepEqual((await stats(srv)).checkout.effects, { charge: 0, reserve: 0, ship: 0, release: 0 });
}));

test('static files: content types, prefixes, 404 and traversal rejection', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'durafetch-demo-'));
  try {
    await mkdir(path.join(dir, 'public'));
    await mkdir(path.join(dir, 'pkg'));
    await writeFile(path.join(dir, 'public', 'index.html'), '<h1>demo</h1>');
    await writeFile(path.join(dir, 'public', 'app.mjs'), 'export {};');
    await writeFile(path.join(dir, 'pkg', 'durafetch_bg.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    await writeFile(path.join(dir, 'secret.txt'), 'top secret');
    const staticRoots = { '/': path.join(dir, 'public'), '/pkg/': path.join(dir, 'pkg') };
    await withServer({ staticRoots }, async (srv) => {
      const index = await fetch(srv.url);
      assert.equal(index.status, 200);
      assert.match(index.headers.get('content-type'), /^text\/html/);
      assert.equal(await index.text(), '<h1>demo</h1>');
      const mjs = await fetch(new URL('/app.mjs', srv.url));
      assert.match(mjs.headers.get('content-type'), /^text\/javascript/);
      await mjs.text();
      const wasm = await fetch(new URL('/pkg/durafetch_bg.wasm', srv.url));
      assert.equal(wasm.headers.get('content-type'), 'application/wasm');
      assert.equal((await wasm.arrayBuffer()).byteLength, 4);
      const missing = await fetch(new URL('/nope.js', srv.url));
      assert.equal(missing.status, 404);
      await missing.text();
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/pkg/../secret.txt', '/pkg/..%5c..%5csecret.txt']) {
        const r = await rawGet(srv.port, p);
        assert.equal(r.status, 403, p);
        assert.doesNotMatch(r.body, /top secret/);
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('missing static roots are 404, unknown routes are 404 JSON', () => withServer({ staticRoots: { '/': '/nonexistent/durafetch' } }, async (srv) => {
  const r = await json(srv, '/index.html');
  assert.equal(r.status, 404);
  assert.match(r.body.error, /no route/);
}));

test('refuses to bind a non-loopback host', async () => {
  await assert.rejects(startDemoServer({ host: '0.0.0.0' }), /loopback/);
});

test('with redisUrl, keys live in Redis (a real redis-server): a second server process would share them', async () => {
  const { startRedis } = await import('../js-tests/server/services.js');
  const redis = await startRedis();
  try {
    await withServer({ redisUrl: redis.url }, async (a) => {
      await withServer({ redisUrl: redis.url }, async (b) => {
        assert.equal((await order(a, coffee, 'shared-1')).status, 201);
        const replay = await order(b, coffee, 'shared-1');
        assert.equal(replay.headers.get('idempotent-replayed'), 'true', 'the other server replays the stored answer');
        assert.deepEqual(await replay.json(), { orderId: 'ord_1', key: 'shared-1', item: 'coffee', qty: 1 });
        assert.equal((await stats(b)).effectsApplied, 0);
        assert.equal((await stats(a)).keys, null, 'Redis keys are not counted by the demo');
      });
    });
  } finally {
    await redis.stop();
  }
});
