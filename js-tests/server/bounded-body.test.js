// A request body over maxRequestBytes, sent slowly: the server answers 413
// problem+json without reading the rest (its memory stays where it was), and
// the key is not claimed (the same key with a normal body then runs). Both
// adapters: idempotent() behind toNodeListener, and Express with its body
// parser mounted after the middleware (the middleware reads the raw body).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startCluster } from './cluster.js';
import { startRedis } from './services.js';

let redis;
let procs;
before(async () => {
  redis = await startRedis();
  procs = await startCluster([
    { name: 'fetch', adapter: 'fetch', store: 'redis', url: redis.url, maxRequestBytes: 256 * 1024 },
    { name: 'express', adapter: 'express', parser: 'after', store: 'redis', url: redis.url, maxRequestBytes: 256 * 1024 },
  ]);
});
after(async () => { await procs?.stop(); await redis?.stop(); });

const memory = async (p) => (await fetch(`${p.base}/control/memory`)).json();

/**
 * POSTs a chunked body of up to `total` bytes, 64 KiB every 5 ms, stopping
 * when an answer arrives or the connection ends. Resolves with the status
 * line and how many body bytes the client managed to send.
 */
function slowPost(base, key, total) {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    let answer = '';
    let finished = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const done = () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]), sent, answer });
    };
    socket.on('data', (d) => { answer += d; if (answer.includes('\r\n\r\n')) setTimeout(done, 20); });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(`POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nIdempotency-Key: ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const timer = setInterval(() => {
      if (sent >= total) { socket.end('0\r\n\r\n'); return; }
      if (socket.writableNeedDrain) return; // the server stopped reading: do not queue more here
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
      sent += chunk.length;
    }, 5);
    setTimeout(() => { if (!finished) reject(new Error(`no answer after sending ${sent} bytes`)); done(); }, 30_000).unref();
  });
}

for (const name of ['fetch', 'express']) {
  test(`${name}: a 64 MiB body sent slowly past a 256 KiB limit gets 413 at once, unread, and claims nothing`, { timeout: 60_000 }, async () => {
    const p = procs.procs.find((x) => x.name === name);
    const before = await memory(p);
    const key = `big-${name}-${Date.now()}`;
    const r = await slowPost(p.base, key, 64 * 1024 * 1024);
    assert.equal(r.status, 413, r.answer.slice(0, 200));
    assert.match(r.answer, /content-type: application\/problem\+json/i);
    assert.match(r.answer, /"status":413/);
    assert.ok(r.sent < 8 * 1024 * 1024, `the server stopped reading: the client could send ${r.sent} of 64 MiB`);
    const afterwards = await memory(p);
    const grew = (afterwards.arrayBuffers + afterwards.heapUsed) - (before.arrayBuffers + before.heapUsed);
    assert.ok(grew < 8 * 1024 * 1024, `memory stayed bounded: +${grew} bytes`);
    const normal = await p.order(key, { op: 'small' });
    assert.deepEqual([normal.status, normal.headers.get('idempotent-replayed')], [201, null], 'the key was not claimed: a normal request with it runs');
    assert.equal((await normal.json()).order.op, 'small');
    console.log(`${name}: 413 after the client sent ${(r.sent / 1024).toFixed(0)} KiB of 64 MiB; server memory ${grew >= 0 ? '+' : ''}${(grew / 1024).toFixed(0)} KiB`);
  });
}
