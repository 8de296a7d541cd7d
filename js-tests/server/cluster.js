// Starts N order-server processes (fixtures/order-server.js) sharing one
// store, and talks to them. Every process is killed by stop(), or when this
// test process exits or is signalled (services.js); requests are bounded in
// time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './services.js';

const SERVER = fileURLToPath(new URL('./fixtures/order-server.js', import.meta.url));

export async function startCluster(configs) {
  const procs = [];
  try {
    for (const config of configs) procs.push(await startOne(config));
  } catch (error) {
    for (const p of procs) p.child.kill('SIGKILL');
    throw error;
  }
  return {
    procs,
    stop: () => Promise.all(procs.map(async (p) => {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
        await p.exited;
      }
    })),
  };
}

function startOne(config) {
  const child = spawn(process.execPath, ['--expose-gc', SERVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, config.name); // killed when this test process exits, even if it fails before stop()
  let output = '';
  child.stderr.on('data', (c) => { output += c; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${config.name} did not start:\n${output}`)); }, 15_000);
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const { port } = JSON.parse(line);
      const base = `http://127.0.0.1:${port}`;
      resolve({
        name: config.name,
        child,
        exited,
        base,
        output: () => output,
        order: (key, body, { hold = false } = {}) => fetch(`${base}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(hold ? { 'x-hold': '1' } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        }),
        control: async (path, body) => (await fetch(`${base}/control/${path}`, {
          method: 'POST', body: JSON.stringify(body ?? {}), signal: AbortSignal.timeout(10_000),
        })).json(),
      });
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${config.name} exited ${code}:\n${output}`)); });
  });
}

/** Polls `check` (bounded) until it returns something truthy. */
export async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function totalEffects(procs) {
  const merged = {};
  for (const p of procs) {
    const { effects } = await (await fetch(`${p.base}/control/effects`)).json();
    for (const [key, n] of Object.entries(effects)) merged[key] = (merged[key] ?? 0) + n;
  }
  return merged;
}

/** Sends until a definitive answer (201 fresh or replayed), as a durafetch client would; bounded. */
export async function orderUntilAnswered(proc, key, body, { tries = 300, pauseMs = 100 } = {}) {
  let last;
  for (let i = 0; i < tries; i++) {
    const r = await proc.order(key, body).catch((error) => ({ status: 0, error }));
    if (r.status === 0 && proc.child.exitCode !== null) throw new Error(`${proc.name} exited:\n${proc.output()}`);
    if (r.status === 201) return { status: 201, replayed: r.headers.get('idempotent-replayed') === 'true', body: await r.json(), tries: i + 1 };
    last = r.status || r.error?.message;
    await r.text?.().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`key ${key}: no answer from ${proc.name} after ${tries} tries (last: ${last})\n${proc.output().slice(-2000)}`);
}
