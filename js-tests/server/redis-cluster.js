// A real Redis Cluster for the tests: six redis-server processes on loopback
// (three masters, three replicas), no persistence, in a temp dir, started by
// the test and killed at its end (services.js kills whatever is left if the
// test process dies). Ports are chosen free, with port + 10000 (the cluster
// bus) free too and below the ephemeral range, as ../../../shared/TOOLCHAIN.md
// notes. `redis-cli --cluster create` returns before every node agrees, so
// readiness is polled: every node says cluster_state:ok and every replica's
// link to its master is up.
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { track, stopProcess, waitFor } from './services.js';

const run = promisify(execFile);

function listens(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** `count` ports in 20000-22699 that are free, as is each one + 10000. */
async function clusterPorts(count) {
  const ports = [];
  for (let tries = 0; ports.length < count && tries < 500; tries++) {
    const port = 20000 + Math.floor(Math.random() * 2700);
    if (ports.includes(port) || ports.includes(port + 10000) || ports.includes(port - 10000)) continue;
    if (await listens(port) && await listens(port + 10000)) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster in 20000-22699');
  return ports;
}

async function info(port, section) {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 1_000 } });
  c.on('error', () => {});
  await c.connect();
  try {
    return section === 'nodes' ? await c.sendCommand(['CLUSTER', 'NODES']) : await c.sendCommand(section === 'cluster' ? ['CLUSTER', 'INFO'] : ['INFO', section]);
  } finally {
    c.destroy();
  }
}

export async function startRedisCluster() {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
  const cli = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find(existsSync);
  if (!binary || !cli) throw new Error('redis-server / redis-cli missing: apt-get install -y redis-server (make test does it)');
  const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-redis-cluster-'));
  const ports = await clusterPorts(6);
  const procs = new Map();

  async function start(port) {
    const nodeDir = path.join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const proc = track(spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no',
      '--repl-diskless-sync-delay', '0', '--dir', nodeDir], { stdio: ['ignore', 'pipe', 'pipe'] }), `redis-server :${port}`);
    procs.set(port, proc);
    await waitFor(() => info(port, 'server'), `redis-server :${port}`, 10_000, proc);
  }

  /** Each node's view: [{ id, port, role: 'master'|'slave', masterId, connected }]. */
  async function nodes(fromPort) {
    const text = await info(fromPort, 'nodes');
    return text.trim().split('\n').map((line) => {
      const [id, address, flags, masterId, , , , state] = line.split(' ');
      return { id, port: Number(address.split(':')[1].split('@')[0]), role: flags.includes('master') ? 'master' : 'slave',
        failed: flags.includes('fail'), masterId, connected: state === 'connected' };
    });
  }

  /** Every live node agrees the cluster is ok, has 3 masters, and each master has a replica whose link is up. */
  async function healthy() {
    const live = [...procs.entries()].filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null).map(([port]) => port);
    for (const port of live) {
      if (!/cluster_state:ok/.test(await info(port, 'cluster'))) throw new Error(`:${port} not ok yet`);
    }
    const view = await nodes(live[0]);
    const masters = view.filter((n) => n.role === 'master' && !n.failed);
    if (masters.length !== 3) throw new Error(`${masters.length} masters`);
    for (const m of masters) {
      const replicas = view.filter((n) => n.role === 'slave' && n.masterId === m.id && !n.failed);
      if (replicas.length === 0) throw new Error(`master :${m.port} has no replica yet`);
      for (const r of replicas) {
        if (!/master_link_status:up/.test(await info(r.port, 'replication'))) throw new Error(`replica :${r.port} not synced yet`);
      }
    }
    return view;
  }

  try {
    await Promise.all(ports.map(start));
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    await waitFor(healthy, 'the Redis Cluster', 30_000);
  } catch (error) {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    ports,
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    /** The current masters and their replicas: [{ port, replicas: [port] }]. */
    async topology() {
      const view = await healthy();
      return view.filter((n) => n.role === 'master' && !n.failed)
        .map((m) => ({ port: m.port, id: m.id, replicas: view.filter((n) => n.role === 'slave' && n.masterId === m.id).map((n) => n.port) }));
    },
    nodesView: (port) => nodes(port),
    healthy: (ms = 30_000) => waitFor(healthy, 'the Redis Cluster healthy again', ms),
    /** A node client (node-redis, one server) to `port`, for the test's own commands. */
    async client(port) {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      c.on('error', () => {});
      await c.connect();
      return c;
    },
    kill: (port) => stopProcess(procs.get(port), 'SIGKILL'),
    start,
    async stop() {
      await Promise.all([...procs.values()].map((p) => stopProcess(p, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
