// The faces of durafetch/server beyond the fetch handler: options validated
// with errors that name the option, toNodeListener on a real Node server,
// and the Express middleware (before or after a body parser, writeHead,
// next(err), streamed and oversized bodies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { idempotent, toNodeListener, expressIdempotency, memoryStore, IdempotencyError } from 'durafetch/server';

async function listen(listener) {
  const server = http.createServer(listener);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

const send = (base, key, { body = '{"item":"tea"}', path = '/orders', headers = {} } = {}) => fetch(`${base}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}), ...headers }, body,
});

test('options are validated, and a mistake names the option', () => {
  const h = async () => new Response('');
  const invalid = (options, option, message) => {
    assert.throws(() => idempotent(h, options), (e) => {
      assert.ok(IdempotencyError.is(e) && e instanceof IdempotencyError);
      assert.equal(e.kind, 'invalid-option');
      assert.equal(e.option, option);
      if (message) assert.match(e.message, message);
      return true;
    });
  };
  invalid({ lockTimeoutMs: 0 }, 'lockTimeoutMs', /^Invalid option lockTimeoutMs: expected an integer number of milliseconds from 1 to \d+, got 0$/);
  invalid({ ttlMs: 1.5 }, 'ttlMs');
  invalid({ methods: [] }, 'methods');
  invalid({ methods: ['PO ST'] }, 'methods');
  invalid({ header: 'Idempotency Key' }, 'header', /got "Idempotency Key"/);
  invalid({ required: 'yes' }, 'required');
  invalid({ maxBodyBytes: -1 }, 'maxBodyBytes');
  invalid({ storeTimeoutMs: 2 ** 31 }, 'storeTimeoutMs');
  invalid({ scope: 'tenant' }, 'scope', /expected a function/);
  invalid({ store: { claim() {}, complete() {} } }, 'store', /claim, complete and release/);
  invalid({ store: { ...memoryStore(), maxResponseBytes: -5 } }, 'store');
  invalid({ lockTimout: 5 }, 'lockTimout', /a known option: store, header/);
  invalid({ onStoreError: 'log' }, 'onStoreError', /a function/);
  invalid(42, 'options');
  assert.throws(() => idempotent('not a function'), (e) => e.kind === 'invalid-handler');
  // A store class whose methods live on its prototype is accepted.
  class MyStore { claim() {} complete() {} release() {} }
  assert.equal(typeof idempotent(h, { store: new MyStore() }), 'function');
  assert.throws(() => expressIdempotency({ ttlMs: 0 }), (e) => e.option === 'ttlMs');
});

test('toNodeListener: a fetch handler on Node http, replays, binary bodies, cookies, errors', async () => {
  let runs = 0;
  const handler = idempotent(async (request) => {
    runs += 1;
    if (new URL(request.url).pathname === '/boom') throw new Error('boom');
    const headers = new Headers({ 'content-type': 'application/octet-stream' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    const body = new Uint8Array(await request.arrayBuffer()).reverse();
    return new Response(body, { status: 201, headers });
  });
  const errors = [];
  const { base, close } = await listen(toNodeListener(handler, { onError: (e) => errors.push(e.message) }));
  try {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    const first = await send(base, 'bin', { body: bytes });
    assert.equal(first.status, 201);
    assert.deepEqual(first.headers.getSetCookie(), ['a=1', 'b=2'], 'two cookies for the first caller');
    const expected = Uint8Array.from(bytes).reverse();
    assert.deepEqual(new Uint8Array(await first.arrayBuffer()), expected);
    const again = await send(base, 'bin', { body: bytes });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.headers.getSetCookie(), [], 'cookies are not replayed');
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), expected);
    const get = await fetch(`${base}/orders`);
    assert.equal(get.status, 201, 'GET passes through');
    await get.text();
    const boom = await send(base, 'boom', { path: '/boom' });
    assert.equal(boom.status, 500);
    await boom.text();
    assert.deepEqual(errors, ['boom']);
    const boomAgain = await send(base, 'boom', { path: '/boom' });
    assert.equal(boomAgain.status, 500, 'a thrown handler released the key: it ran again');
    await boomAgain.text();
    assert.equal(runs, 4);
  } finally {
    await close();
  }
});

test('toNodeListener in front of a wrapper: the idempotent() answer it gets is a Response it can change or read', async () => {
  let runs = 0;
  const orders = idempotent(async (request) => { runs += 1; return Response.json({ run: runs, body: await request.json() }, { status: 201 }); });
  const { base, close } = await listen(toNodeListener(async (request) => {
    const answer = await orders(request);
    if (new URL(request.url).pathname === '/copy') return new Response(answer.body, { status: answer.status, headers: answer.headers });
    answer.headers.set('x-wrapped', 'yes');
    return answer;
  }));
  try {
    const first = await send(base, 'w1');
    assert.deepEqual([first.status, first.headers.get('x-wrapped'), await first.json()], [201, 'yes', { run: 1, body: { item: 'tea' } }]);
    const copied = await send(base, 'w1', { path: '/copy' });
    assert.equal(copied.status, 422, 'another path under the same key');
    await copied.text();
    const fresh = await send(base, 'w2', { path: '/copy' });
    assert.deepEqual([fresh.status, await fresh.json()], [201, { run: 2, body: { item: 'tea' } }], 'its body read as a stream by the wrapper');
    const replay = await send(base, 'w2', { path: '/copy' });
    assert.deepEqual([replay.headers.get('idempotent-replayed'), await replay.json()], ['true', { run: 2, body: { item: 'tea' } }]);
  } finally {
    await close();
  }
});

// toNodeListener and Express with a memoryStore() take the engine's direct
// path into the core's records (one call before the handler, one after):
// the same rules as every store, checked here on an injected clock.
for (const face of ['toNodeListener', 'Express']) {
  test(`memoryStore behind ${face}: 409 while the lease holds, a takeover after it, the late answer refused; 422, 403, release on 5xx`, async () => {
    let t = Date.now();
    const options = { now: () => t, lockTimeoutMs: 5_000 };
    let runs = 0;
    const gates = [1, 2].map(() => { let open; const opened = new Promise((resolve) => { open = resolve; }); return { open, opened }; });
    const answer = async (path, run) => {
      if (path === '/slow' && run <= 2) await gates[run - 1].opened;
      return path === '/fail' ? [503, `failed ${run}`] : [201, `run ${run}`];
    };
    const started = async (n) => { for (let i = 0; i < 500 && runs < n; i++) await new Promise((resolve) => setTimeout(resolve, 2)); };
    let listener;
    if (face === 'Express') {
      const app = express();
      app.use(express.json());
      app.use(expressIdempotency(options));
      app.post(['/slow', '/fail'], async (req, res) => { runs += 1; const [status, text] = await answer(req.path, runs); res.status(status).send(text); });
      listener = app;
    } else {
      listener = toNodeListener(idempotent(async (request) => {
        runs += 1;
        const [status, text] = await answer(new URL(request.url).pathname, runs);
        return new Response(text, { status });
      }, options));
    }
    const { base, close } = await listen(listener);
    try {
      const first = send(base, 'lease', { path: '/slow' });
      await started(1);
      const busy = await send(base, 'lease', { path: '/slow' });
      assert.deepEqual([busy.status, busy.headers.get('retry-after')], [409, '1']);
      await busy.text();
      t += 5_000; // the lease ends on the injected clock: a resend takes the key over
      const second = send(base, 'lease', { path: '/slow' });
      await started(2);
      gates[0].open(); // the first owner answers while the second holds the key
      const late = await first;
      assert.deepEqual([late.status, await late.text()], [201, 'run 1'], 'the first caller still gets its own answer');
      gates[1].open();
      const taken = await second;
      assert.deepEqual([taken.status, await taken.text()], [201, 'run 2']);
      const replay = await send(base, 'lease', { path: '/slow' });
      assert.deepEqual([replay.headers.get('idempotent-replayed'), await replay.text()], ['true', 'run 2'], 'the late answer was refused');
      const quoted = await send(base, '"lease"', { path: '/slow' });
      assert.deepEqual([quoted.headers.get('idempotent-replayed'), await quoted.text()], ['true', 'run 2'], 'the sf-string form is the same key');
      const fresh = await send(base, '"quoted-first"', { path: '/slow' });
      assert.equal(await fresh.text(), 'run 3');
      const freshBare = await send(base, 'quoted-first', { path: '/slow' });
      assert.deepEqual([freshBare.headers.get('idempotent-replayed'), await freshBare.text()], ['true', 'run 3'], 'claimed quoted, replayed bare');
      const other = await send(base, 'lease', { path: '/slow', body: '{"item":"coffee"}' });
      assert.equal(other.status, 422);
      await other.text();
      const stranger = await send(base, 'lease', { path: '/slow', headers: { authorization: 'Bearer someone-else' } });
      assert.equal(stranger.status, 403);
      await stranger.text();
      for (const expected of ['failed 4', 'failed 5']) {
        const failed = await send(base, 'fails', { path: '/fail' });
        assert.deepEqual([failed.status, await failed.text()], [503, expected], 'a 5xx is released: the resend runs');
      }
      assert.equal(runs, 5);
    } finally {
      await close();
    }
  });
}

test('Express: replays, 409/422 problems, writeHead headers, next(err) releases, raw bodies, oversized answers', async () => {
  const runs = { orders: 0, fail: 0, big: 0, raw: 0 };
  let releaseHeld;
  const held = new Promise((resolve) => { releaseHeld = resolve; });
  const app = express();
  app.use('/json', express.json());
  app.use(expressIdempotency({ maxBodyBytes: 1000 }));
  app.post('/json/orders', async (req, res) => {
    runs.orders += 1;
    if (req.get('x-hold')) await held;
    res.writeHead(201, { 'content-type': 'application/json', 'x-run': String(runs.orders) });
    res.end(JSON.stringify({ item: req.body.item, run: runs.orders }));
  });
  app.post('/fail', (req, res, next) => { runs.fail += 1; next(new Error(`failure ${runs.fail}`)); });
  app.post('/big', (req, res) => {
    runs.big += 1;
    res.status(200).set('content-type', 'text/plain');
    for (let i = 0; i < 5; i++) res.write('x'.repeat(500));
    res.end('!');
  });
  // No body parser: the stream is the handler's to read, whole, even after the middleware fingerprinted it.
  app.post('/raw', (req, res) => {
    runs.raw += 1;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => res.status(202).send(`raw ${req.body === undefined} ${Buffer.concat(chunks).toString()}`));
  });
  app.use((error, req, res, next) => { res.status(500).json({ error: error.message }); }); // eslint-disable-line no-unused-vars
  const { base, close } = await listen(app);
  try {
    const held1 = send(base, 'k1', { path: '/json/orders', headers: { 'x-hold': '1' } });
    for (let i = 0; i < 100 && runs.orders === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const conflict = await send(base, 'k1', { path: '/json/orders' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.headers.get('retry-after'), '1');
    assert.equal(conflict.headers.get('content-type'), 'application/problem+json');
    assert.equal((await conflict.json()).status, 409);
    releaseHeld();
    const first = await held1;
    assert.deepEqual([first.status, await first.json()], [201, { item: 'tea', run: 1 }]);
    const replay = await send(base, 'k1', { path: '/json/orders', body: '{ "item": "tea" }' });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true', 'the parsed body is the same: a resend');
    assert.equal(replay.headers.get('x-run'), '1', 'a header given to writeHead is stored');
    assert.deepEqual(await replay.json(), { item: 'tea', run: 1 });
    const mismatch = await send(base, 'k1', { path: '/json/orders', body: '{"item":"coffee"}' });
    assert.equal(mismatch.status, 422);
    await mismatch.text();
    assert.equal(runs.orders, 1);

    for (const expected of [1, 2]) {
      const r = await send(base, 'f1', { path: '/fail' });
      assert.deepEqual([r.status, await r.json()], [500, { error: `failure ${expected}` }], 'a 500 is not stored');
    }

    const big = await send(base, 'b1', { path: '/big' });
    assert.equal((await big.text()).length, 2501, 'the first caller gets every chunk');
    const bigAgain = await send(base, 'b1', { path: '/big' });
    assert.deepEqual([bigAgain.status, await bigAgain.text(), bigAgain.headers.get('idempotent-replayed')], [200, '', 'true'],
      'over maxBodyBytes: replayed without its body');
    assert.equal(runs.big, 1);

    const raw = await send(base, 'r1', { path: '/raw', body: 'abc' });
    assert.equal(await raw.text(), 'raw true abc', 'no body parser: the handler reads the whole body from the stream');
    const rawOther = await send(base, 'r1', { path: '/raw', body: 'abd' });
    assert.equal(rawOther.status, 422, 'and fingerprinted');
    await rawOther.text();
    const noKey = await send(base, undefined, { path: '/raw', body: 'abc' });
    assert.deepEqual([noKey.status, await noKey.text()], [202, 'raw true abc'], 'no key: passes through, body untouched');
    const badKey = await send(base, 'has space', { path: '/raw' });
    assert.equal(badKey.status, 400);
    assert.equal(badKey.headers.get('content-type'), 'application/problem+json');
    await badKey.text();
    assert.equal(runs.raw, 2);
  } finally {
    await close();
  }
});

test('onStoreError hears of every store failure; the request is answered regardless', async () => {
  const inner = memoryStore();
  let failing = 'claim';
  const store = {
    claim: (...a) => (failing === 'claim' ? Promise.reject(new Error('claim down')) : inner.claim(...a)),
    complete: (...a) => (failing === 'complete' ? Promise.reject(new Error('complete down')) : inner.complete(...a)),
    release: (...a) => (failing === 'release' ? Promise.reject(new Error('release down')) : inner.release(...a)),
  };
  const heard = [];
  let status = 201;
  const handler = idempotent(async () => new Response('done', { status }), {
    store, lockTimeoutMs: 400, storeTimeoutMs: 100,
    onStoreError: (error, context) => { heard.push([error.message, context.step, context.id]); throw new Error('a buggy logger'); },
  });
  const send = (key) => handler(new Request('http://api.test/o', { method: 'POST', headers: { 'idempotency-key': key }, body: 'x' }));
  assert.equal((await send('a')).status, 503);
  failing = 'complete';
  const answered = await send('b');
  assert.deepEqual([answered.status, await answered.text()], [201, 'done'], 'the caller gets the answer that could not be stored');
  failing = 'release';
  status = 500;
  assert.equal((await send('c')).status, 500);
  const completes = heard.filter(([, step]) => step === 'complete');
  assert.ok(completes.length >= 2, `a failed complete is retried while the lease holds, each failure heard: ${completes.length}`);
  assert.deepEqual(heard.filter(([, step]) => step !== 'complete'), [['claim down', 'claim', 'a'], ['release down', 'release', 'c']]);
  assert.deepEqual([...new Set(completes.map((c) => c.join(' ')))], ['complete down complete b']);
});

test('a complete that fails while the store restarts is retried: the answer is stored before it is sent', async () => {
  const inner = memoryStore();
  let down = 2; // the first two completes fail, as during a restart
  const store = {
    claim: (...a) => inner.claim(...a),
    complete: (...a) => (down-- > 0 ? Promise.reject(new Error('restarting')) : inner.complete(...a)),
    release: (...a) => inner.release(...a),
  };
  let runs = 0;
  const handler = idempotent(async () => new Response(`run ${++runs}`, { status: 201 }), { store, lockTimeoutMs: 10_000, storeTimeoutMs: 100 });
  const send = () => handler(new Request('http://api.test/o', { method: 'POST', headers: { 'idempotency-key': 'k' }, body: 'x' }));
  assert.equal(await (await send()).text(), 'run 1');
  const again = await send();
  assert.deepEqual([await again.text(), again.headers.get('idempotent-replayed')], ['run 1', 'true'], 'stored on the third try: a resend replays it');
  assert.equal(runs, 1);
});
