// Real Redis and PostgreSQL servers for the tests: each started by the test
// that needs it, as a child process on a free loopback port with its data in
// a temp dir, and killed by its PID when the test ends (also if it fails, and
// if this process exits first). Nothing assumes a service already running.
// `make test` installs Debian's redis-server and postgresql when missing.
import { spawn, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import pg from 'pg';

const live = new Set();
const killLive = () => { for (const child of live) child.kill('SIGKILL'); };
process.on('exit', killLive);
// A test file stopped by a signal (a timeout, ^C) skips 'exit': kill them then too.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { killLive(); process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); });
}

/** A port nobody listens on now, on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Follows a child process: killed when this process exits; its last output kept. */
export function track(child, name) {
  live.add(child);
  let output = '';
  child.stdout?.on('data', (c) => { output = (output + c).slice(-4000); });
  child.stderr?.on('data', (c) => { output = (output + c).slice(-4000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
  return { child, exited, output: () => output, name };
}

/** Polls `check` until it resolves (bounded by `ms`); fails at once if `proc` exits. */
export async function waitFor(check, what, ms, proc) {
  const end = Date.now() + ms;
  let lastError;
  while (Date.now() < end) {
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited while starting:\n${proc.output()}`);
    try {
      return await check();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${what} not ready after ${ms} ms: ${lastError?.message}\n${proc?.output() ?? ''}`);
}

/** Stops a tracked process by its PID (SIGKILL after 5 s). */
export async function stopProcess(proc, signal = 'SIGTERM') {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await proc.exited;
  clearTimeout(timer);
}

function requireBinary(file, install) {
  if (!file || !existsSync(file)) throw new Error(`${file ?? 'the binary'} is missing: ${install} (make test does it)`);
  return file;
}

/**
 * redis-server without persistence. `start()` may be called again after
 * `kill()` (same port): a restarted Redis has lost its scripts and data.
 */
export async function startRedis() {
  const binary = requireBinary(['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync), 'apt-get install -y redis-server');
  const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-redis-'));
  const port = await freePort();
  let proc;
  const clients = new Set();

  async function start() {
    proc = track(spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'redis-server');
    const probe = await waitFor(async () => {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      c.on('error', () => {});
      await c.connect();
      return c;
    }, 'redis-server', 10_000, proc);
    await probe.quit();
  }
  await start();

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** A connected node-redis client, closed by stop(). */
    async client(options = {}) {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, ...options });
      c.on('error', () => {}); // reconnects are the tests' business
      await c.connect();
      clients.add(c);
      return c;
    },
    kill: () => stopProcess(proc, 'SIGKILL'),
    start,
    async stop() {
      for (const c of clients) { try { c.destroy(); } catch { /* already closed */ } }
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBinDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a) : [];
  const bin = versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'postgres')));
  requireBinary(bin && path.join(bin, 'postgres'), 'apt-get install -y postgresql');
  return bin;
}

/**
 * A PostgreSQL cluster made by initdb in a temp dir, run as a child process
 * (as the `postgres` user when we are root: initdb and postgres refuse root).
 */
export async function startPostgres() {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : {};
  if (asRoot) chownSync(dir, ids.uid, ids.gid);
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions'],
    { ...ids, stdio: 'pipe', cwd: dir });
  const port = await freePort();
  let proc;
  const pools = new Set();

  async function start() {
    proc = track(spawn(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...ids, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), 'postgres');
    await waitFor(async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await c.connect();
      await c.end();
    }, 'postgres', 20_000, proc);
  }
  await start();

  const config = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
  return {
    port,
    config,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    /** A pg Pool, ended by stop(). */
    pool(options = {}) {
      const pool = new pg.Pool({ ...config, ...options });
      pool.on('error', () => {}); // idle clients die when the server is stopped on purpose
      pools.add(pool);
      return pool;
    },
    /** Shuts the server down (fast shutdown); start() brings it back on the same port and data. */
    kill: () => stopProcess(proc, 'SIGINT'),
    start,
    async stop() {
      await Promise.all([...pools].map((p) => p.end().catch(() => {})));
      await stopProcess(proc, 'SIGINT'); // fast shutdown
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
