// Many server processes sharing one store, as real deployments run: 4 Node
// processes (2 behind idempotent() + toNodeListener, 2 behind Express, one
// with its body parser mounted after the middleware) on one Redis, then on
// one PostgreSQL, with clocks that disagree by minutes. Processes that die
// (SIGKILL) or freeze (SIGSTOP) mid-handler: the lease, the takeover, the
// refused late answer. And PostgreSQL restarted in the middle of a run.
// Leases live on the store's clock: the tests move it with `advance` (every
// record aged, ./store-clock.js), never by sleeping, and the processes' own
// clocks are skewed on purpose, to show they play no part.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, until, totalEffects, orderUntilAnswered } from './cluster.js';
import { startRedis, startPostgres } from './services.js';
import { redisStoreClock, postgresStoreClock } from './store-clock.js';
import { postgresStore } from 'durafetch/server';

let redis;
let postgres;
let redisClock;
let postgresClock;
const clusters = [];
before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  const pool = postgres.pool();
  await postgresStore(pool).migrate();
  redisClock = redisStoreClock(await redis.client());
  postgresClock = postgresStoreClock(pool);
});
after(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

const MINUTE = 60_000;
const STORES = [
  ['Redis', () => ({ store: 'redis', url: redis.url }), () => redisClock],
  ['PostgreSQL', () => ({ store: 'postgres', url: postgres.url }), () => postgresClock],
];
// Four processes whose clocks are off by up to 7 minutes from each other.
const SKEWS = [-3 * MINUTE, 4 * MINUTE, 0, -MINUTE];

async function cluster(names, storeConfig, extra = {}) {
  const c = await startCluster(names.map((name, i) => ({
    name, adapter: i % 2 ? 'express' : 'fetch', parser: i === 3 ? 'after' : 'before', skewMs: SKEWS[i], ...storeConfig, ...extra,
  })));
  clusters.push(c);
  return c;
}

for (const [storeName, storeConfig, storeClock] of STORES) {
  test(`4 processes on one ${storeName}, clocks minutes apart: 50 keys × 8 concurrent requests → exactly 50 effects`, { timeout: 120_000 }, async () => {
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
    console.log(`${storeName}: 400 requests from 4 processes (clocks up to 7 min apart): 50 effects, 50 first answers, ${conflicts} × 409, ${others.length - conflicts} replays`);
  });

  test(`${storeName}: a process SIGKILLed mid-handler holds its key for the lease on the store's clock, whatever the other's clock says`, { timeout: 60_000 }, async () => {
    // A's clock is 3 minutes slow, B's 4 minutes fast (SKEWS): by B's clock
    // A's 60-second lease ended long ago. On the store's clock it has not.
    const c = await cluster(['A', 'B'], storeConfig(), { lockTimeoutMs: MINUTE });
    const [a, b] = c.procs;
    const key = `${storeName}-killed-${Date.now()}`;
    const lost = a.order(key, { op: 'k' }, { hold: true }).then(() => 'answered', () => 'connection lost');
    await until(async () => (await a.control('effects')).started.includes(key), 'A started the handler');
    a.child.kill('SIGKILL');
    await a.exited;
    assert.equal(await lost, 'connection lost');

    const within = await b.order(key, { op: 'k' });
    assert.equal(within.status, 409, 'within the lease: 409, though B\'s clock is 7 minutes ahead of A\'s');
    assert.equal(within.headers.get('retry-after'), '1');
    await within.text();
    const clock = storeClock();
    await clock.advance(MINUTE - clock.slackMs);
    assert.equal((await b.order(key, { op: 'k' }).then(async (r) => { await r.text(); return r.status; })), 409, `${clock.slackMs} ms before the lease ends: still 409`);
    await clock.advance(clock.slackMs);
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
    const c = await cluster(['C', 'D'], storeConfig(), { lockTimeoutMs: MINUTE });
    const [zombie, live] = c.procs;
    const key = `${storeName}-zombie-${Date.now()}`;
    const slow = zombie.order(key, { op: 'z' }, { hold: true });
    await until(async () => (await zombie.control('effects')).started.includes(key), 'C started the handler');
    zombie.child.kill('SIGSTOP'); // a GC pause, a stalled VM: the process is alive but silent
    await storeClock().advance(MINUTE);
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

test('PostgreSQL restarted in the middle of a 4-process run: every key still applied exactly once', { timeout: 180_000 }, async () => {
  const c = await cluster(['R1', 'R2', 'R3', 'R4'], { store: 'postgres', url: postgres.url }, { delayMs: 50, lockTimeoutMs: 30_000, storeTimeoutMs: 1_000 });
  const run = `restart-${Date.now()}`;
  let answered = 0;
  const requests = [];
  for (let k = 0; k < 50; k++) {
    for (let i = 0; i < 8; i++) {
      // Spread over ~1.5 s, so the restart lands while keys are claimed, running and being stored.
      requests.push(new Promise((resolve) => setTimeout(resolve, (k * 8 + i) * 4))
        .then(() => orderUntilAnswered(c.procs[(k + i) % 4], `${run}-key-${k}`, { op: k }))
        .then((a) => { answered += 1; return { k, ...a }; }));
    }
  }
  await until(() => answered >= 60, 'the run is under way', 60_000);
  const restartedAt = answered;
  await postgres.kill(); // fast shutdown: what a restart or a switchover does
  await postgres.start();
  const answers = await Promise.all(requests);
  const effects = await totalEffects(c.procs);
  assert.equal(Object.keys(effects).length, 50, 'every key applied');
  assert.deepEqual(Object.entries(effects).filter(([, n]) => n !== 1), [], 'each key exactly once');
  for (let k = 0; k < 50; k++) {
    const bodies = new Set(answers.filter((a) => a.k === k).map((a) => JSON.stringify(a.body)));
    assert.equal(bodies.size, 1, `key ${k}: all 8 callers got the one answer`);
  }
  const retried = answers.filter((a) => a.tries > 1).length;
  const storeErrors = (await Promise.all(c.procs.map(async (p) => (await p.control('effects')).storeErrors))).flat();
  assert.ok(retried > 0 && storeErrors.length > 0, 'the restart was felt: requests were refused and store calls failed');
  console.log(`PostgreSQL restarted after ${restartedAt} of 400 answers: 50 effects, ${retried} requests answered only after retrying (503/409 meanwhile), ${storeErrors.length} store errors heard, e.g. ${storeErrors[0]}`);
});
