// Redis Cluster, as a user who outgrows one Redis runs it: a real 6-node
// cluster on loopback (3 masters, 3 replicas), started here. redisStore is
// given the cluster clients as they are: node-redis v6 and v4 createCluster
// (they load scripts differently: v4 on the node it asked, v6 everywhere),
// and an ioredis Cluster. Then a failover: replication to one master's
// replica is cut (ACL -psync -sync, CLIENT KILL TYPE replica: the window
// asynchronous replication allows, made a few hundred ms wide), requests
// arrive, the master is SIGKILLed mid-run and its replica takes over.
// Without WAIT (replicas: 0) claims the dead master acknowledged are lost and
// resends run those handlers again; with replicas: 1 none is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotent, redisStore } from 'durafetch/server';
import { createCluster } from 'redis';
import * as redis4 from 'redis4';
import Redis from 'ioredis';
import { startCluster, until, totalEffects, orderUntilAnswered } from './cluster.js';
import { startRedisCluster } from './redis-cluster.js';
import { redisClusterStoreClock } from './store-clock.js';
import { CASES, runConformance } from './fixtures/conformance.js';

let cluster;
const stops = [];
before(async () => { cluster = await startRedisCluster(); });
after(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  await cluster?.stop();
});

const CLIENTS = {
  'node-redis v6': async () => {
    const c = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n}` })) });
    c.on('error', () => {});
    await c.connect();
    stops.push(() => c.close?.() ?? c.disconnect());
    return c;
  },
  'node-redis v4': async () => {
    const c = redis4.createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n}` })) });
    c.on('error', () => {});
    await c.connect();
    stops.push(() => c.disconnect());
    return c;
  },
  ioredis: async () => {
    const c = new Redis.Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    c.on('error', () => {});
    stops.push(async () => c.disconnect());
    return c;
  },
};
const FIXTURE_CLIENT = { 'node-redis v6': 'redis', 'node-redis v4': 'redis4', ioredis: 'ioredis' };

test('conformance on a Redis Cluster through node-redis v6, node-redis v4 and ioredis cluster clients, as they are', { timeout: 120_000 }, async () => {
  for (const [name, make] of Object.entries(CLIENTS)) {
    const store = redisStore(await make());
    const storeClock = redisClusterStoreClock(cluster);
    const results = await runConformance({ idempotent, store, storeClock }).finally(() => storeClock.close());
    assert.equal(results.length, CASES.length);
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(failed, [], `${name}: ${failed.map((f) => `${f.name}: ${f.error}`).join('\n\n')}`);
  }
});

async function processes(client, extra = {}) {
  const c = await startCluster(['C1', 'C2', 'C3', 'C4'].map((name, i) => ({
    name, adapter: i % 2 ? 'express' : 'fetch', store: 'redis-cluster', nodes: cluster.nodes, client, delayMs: 50, ...extra,
  })));
  stops.push(() => c.stop());
  return c;
}

for (const name of Object.keys(CLIENTS)) {
  test(`4 processes on the cluster through ${name}: 50 keys × 8 concurrent requests → exactly 50 effects`, { timeout: 60_000 }, async () => {
    const c = await processes(FIXTURE_CLIENT[name]);
    const run = `cl-${FIXTURE_CLIENT[name]}-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => {
      const k = Math.floor(i / 8);
      return c.procs[i % 4].order(`${run}-${k}`, { op: k }).then(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), text: await r.text() }));
    }));
    const effects = await totalEffects(c.procs);
    assert.equal(Object.keys(effects).length, 50);
    assert.deepEqual(Object.entries(effects).filter(([, n]) => n !== 1), [], 'each key exactly once');
    assert.equal(answers.filter((a) => a.status === 201 && a.replayed === null).length, 50, 'one fresh answer per key');
    assert.ok(answers.every((a) => a.status === 201 || a.status === 409), JSON.stringify(answers.find((a) => a.status !== 201 && a.status !== 409)));
    await c.stop();
  });
}

/** Slot ranges a master serves, from CLUSTER NODES. */
async function slotsOf(port) {
  const client = await cluster.client(port);
  try {
    const line = (await client.sendCommand(['CLUSTER', 'NODES'])).split('\n').find((l) => l.includes('myself'));
    return line.split(' ').slice(8).filter((r) => /^\d/.test(r)).map((r) => r.split('-').map(Number)).map(([a, b]) => [a, b ?? a]);
  } finally {
    client.destroy();
  }
}

async function roleOf(port) {
  const client = await cluster.client(port);
  try {
    return /role:(\w+)/.exec(await client.sendCommand(['INFO', 'replication']))[1];
  } finally {
    client.destroy();
  }
}

async function failover(clientName, replicas) {
  const [victim] = await cluster.topology();
  const replica = victim.replicas[0];
  const ranges = await slotsOf(victim.port);
  const admin = await cluster.client(victim.port);
  const victimKeys = new Set();
  // 50 keys: 25 on the master that will die, 25 elsewhere (Redis says which slot a key is in).
  const run = `fo-${FIXTURE_CLIENT[clientName]}-${replicas}-${Date.now()}`;
  const keys = [];
  for (let i = 0, mine = 0, others = 0; keys.length < 50 && i < 1_000; i++) {
    const key = `${run}-${i}`;
    const slot = Number(await admin.sendCommand(['CLUSTER', 'KEYSLOT', `durafetch:idempotency:${key}`]));
    const here = ranges.some(([a, b]) => slot >= a && slot <= b);
    if (here ? mine++ < 25 : others++ < 25) keys.push(key);
    if (here) victimKeys.add(key);
  }
  const onVictim = (key) => victimKeys.has(key);
  const c = await processes(FIXTURE_CLIENT[clientName], { replicas, lockTimeoutMs: 20_000, storeTimeoutMs: 1_000 });

  // Cut replication to the victim's replica: it cannot resync until the victim dies.
  await admin.sendCommand(['ACL', 'SETUSER', 'default', '-psync', '-sync']);
  await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
  admin.destroy();
  const cutAt = Date.now();

  const requests = keys.flatMap((key, k) => Array.from({ length: 8 }, (_, i) =>
    new Promise((resolve) => setTimeout(resolve, (k * 8 + i) * 2))
      .then(() => orderUntilAnswered(c.procs[(k + i) % 4], key, { op: k }, { tries: 400, pauseMs: 100 }))));
  await new Promise((resolve) => setTimeout(resolve, 400));
  await cluster.kill(victim.port);
  const killedAt = Date.now();
  await until(async () => (await roleOf(replica)) === 'master', 'the replica took over', 30_000);
  const promotedAt = Date.now();
  await cluster.start(victim.port); // it rejoins as the new master's replica
  await cluster.healthy();
  const answers = await Promise.all(requests);
  const effects = await totalEffects(c.procs);
  await c.stop();
  const duplicates = Object.values(effects).reduce((sum, n) => sum + n - 1, 0);
  const onVictimKeys = keys.filter(onVictim);
  return {
    keys: Object.keys(effects).length, duplicates, onVictim: onVictimKeys.length,
    duplicatedKeys: Object.entries(effects).filter(([, n]) => n > 1).length,
    cutMs: killedAt - cutAt, promotedAfterMs: promotedAt - killedAt,
    answers: answers.length, sameAnswer: keys.every((key, k) => new Set(answers.slice(k * 8, k * 8 + 8).map((a) => JSON.stringify(a.body))).size === 1),
  };
}

for (const clientName of ['node-redis v6', 'node-redis v4']) {
  test(`failover with ${clientName}: replication cut, master SIGKILLed mid-run; replicas 0 runs lost claims again, replicas 1 never`, { timeout: 240_000 }, async () => {
    const without = await failover(clientName, 0);
    console.log(`${clientName}, replicas 0 (no WAIT): ${JSON.stringify(without)}`);
    assert.equal(without.keys, 50, 'every key applied');
    assert.ok(without.duplicates > 0, 'claims acknowledged by the dead master and never replicated ran again after the failover');
    const waited = await failover(clientName, 1);
    console.log(`${clientName}, replicas 1 (WAIT 1): ${JSON.stringify(waited)}`);
    assert.equal(waited.keys, 50, 'every key applied');
    assert.equal(waited.duplicates, 0, 'with WAIT 1, no claim the failover lost had run');
    assert.ok(waited.sameAnswer, 'all 8 callers of each key got the one answer');
  });
}
