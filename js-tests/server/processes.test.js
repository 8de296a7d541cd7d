// Many server processes sharing one store, as real deployments run: 4 Node
// processes (2 behind idempotent() + toNodeListener, 2 behind Express) on one
// Redis, then on one PostgreSQL. And processes that die (SIGKILL) or freeze
// (SIGSTOP) mid-handler: the lease, the takeover, the refused late answer.
// Leases are driven by a virtual clock the processes share (it moves only by
// POST /control/clock), never by sleeping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, until } from './cluster.js';
import { startRedis, startPostgres } from './services.js';
import { postgresStore } from 'durafetch/server';

let redis;
let postgres;
const clusters = [];
before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  await postgresStore(postgres.pool()).migrate();
});
after(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

const STORES = [['Redis', () => ({ store: 'redis', url: redis.url })], ['PostgreSQL', () => ({ store: 'postgres', url: postgres.url })]];

async function cluster(names, storeConfig, extra = {}) {
  const c = await startCluster(names.map((name, i) => ({ name, adapter: i % 2 ? 'express' : 'fetch', ...storeConfig, ...extra })));
  clusters.push(c);
  return c;
}

async function totalEffects(procs) {
  const merged = {};
  for (const p of procs) {
    const { effects } = await (await fetch(`${p.base}/control/effects`)).json();
    for (const [key, n] of Object.entries(effects)) merged[key] = (merged[key] ?? 0) + n;
  }
  return merged;
}

for (const [storeName, storeConfig] of STORES) {
  test(`4 processes on one ${storeName}: 50 keys × 8 concurrent requests → exactly 50 effects`, { timeout: 120_000 }, async () => {
    const c = await cluster(['P1', 'P2', 'P3', 'P4'], storeConfig(), { delayMs: 50 });
    const run = `${storeName}-${Date.now()}`;
    const requests = [];
    for (let k = 0; k < 50; k++) {
      for (let i = 0; i < 8; i++) {
        const proc = c.procs[(k + i) % 4];
        requests.push(proc.order(`${run}-key-${k}`, { op: k }).then(async (r) => ({
          k, status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', body: await r.text(),
        })));
      }
    }
    const answers = await Promise.all(requests);
    const effects = await totalEffects(c.procs);
    assert.equal(Object.keys(effects).length, 50, 'every key applied');
    assert.deepEqual(Object.values(effects).filter((n) => n !== 1), [], 'each key exactly once');
    const firstRuns = answers.filter((a) => a.status === 201 && !a.replayed);
    assert.equal(firstRuns.length, 50, 'one fresh 201 per key');
    const others = answers.filter((a) => !(a.status === 201 && !a.replayed));
    assert.ok(others.every((a) => a.status === 409 || (a.status === 201 && a.replayed)), `the rest are 409 or replays: ${JSON.stringify(others.filter((a) => a.status !== 409 && !a.replayed).slice(0, 3))}`);
    const conflicts = others.filter((a) => a.status === 409).length;
    // Resend every key once, to a process that did not run it: all replays of the one answer.
    const again = await Promise.all(Array.from({ length: 50 }, (_, k) => c.procs[(k + 1) % 4].order(`${run}-key-${k}`, { op: k })
      .then(async (r) => ({ k, replayed: r.headers.get('idempotent-replayed'), body: await r.json() }))));
    for (const a of again) {
      const first = JSON.parse(firstRuns.find((f) => f.k === a.k).body);
      assert.deepEqual([a.replayed, a.body], ['true', first], `key ${a.k}: the stored answer`);
    }
    assert.equal(Object.values(await totalEffects(c.procs)).reduce((x, y) => x + y, 0), 50, 'still 50 effects');
    console.log(`${storeName}: 400 requests from 4 processes: 50 effects, 50 first answers, ${conflicts} × 409, ${others.length - conflicts} replays`);
  });

  test(`${storeName}: a process SIGKILLed mid-handler holds its key for the lease, then a resend runs once`, { timeout: 60_000 }, async () => {
    const c = await cluster(['A', 'B'], storeConfig(), { lockTimeoutMs: 60_000, clock: Date.now() });
    const [a, b] = c.procs;
    const key = `${storeName}-killed-${Date.now()}`;
    const lost = a.order(key, { op: 'k' }, { hold: true }).then(() => 'answered', () => 'connection lost');
    await until(async () => (await a.control('effects')).started.includes(key), 'A started the handler');
    a.child.kill('SIGKILL');
    await a.exited;
    assert.equal(await lost, 'connection lost');

    const within = await b.order(key, { op: 'k' });
    assert.equal(within.status, 409, 'within the lease: 409');
    assert.equal(within.headers.get('retry-after'), '1');
    await within.text();
    await b.control('clock', { advanceMs: 59_999 });
    assert.equal((await b.order(key, { op: 'k' }).then(async (r) => { await r.text(); return r.status; })), 409, 'at 59,999 ms: still 409');
    await b.control('clock', { advanceMs: 1 });
    const after = await b.order(key, { op: 'k' });
    assert.equal(after.status, 201, 'after the lease: runs');
    assert.equal(after.headers.get('idempotent-replayed'), null);
    assert.deepEqual(await after.json(), { process: 'B', order: { op: 'k' }, effect: 1 });
    const replay = await b.order(key, { op: 'k' });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true', 'then replays');
    await replay.text();
    assert.deepEqual((await totalEffects([b]))[key], 1, 'B ran it once');
  });

  test(`${storeName}: a frozen owner (SIGSTOP) whose lease was taken over cannot store its late answer`, { timeout: 60_000 }, async () => {
    const c = await cluster(['C', 'D'], storeConfig(), { lockTimeoutMs: 60_000, clock: Date.now() });
    const [zombie, live] = c.procs;
    const key = `${storeName}-zombie-${Date.now()}`;
    const slow = zombie.order(key, { op: 'z' }, { hold: true });
    await until(async () => (await zombie.control('effects')).started.includes(key), 'C started the handler');
    zombie.child.kill('SIGSTOP'); // a GC pause, a stalled VM: the process is alive but silent
    await live.control('clock', { advanceMs: 60_000 });
    const takeover = await live.order(key, { op: 'z' });
    assert.equal(takeover.status, 201);
    assert.equal((await takeover.json()).process, 'D', 'D took the expired lease over and ran');
    zombie.child.kill('SIGCONT');
    await zombie.control('open');
    const late = await slow;
    assert.equal(late.status, 201);
    assert.equal((await late.json()).process, 'C', 'C\'s caller still gets C\'s own answer');
    for (const p of [live, zombie]) {
      const replay = await p.order(key, { op: 'z' });
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal((await replay.json()).process, 'D', `the stored answer is D's, seen from ${p.name}: C's late completion was refused`);
    }
  });
}
