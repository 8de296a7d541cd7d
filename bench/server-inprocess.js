// A contender's listener (server-listener.js) driven in this process, without
// HTTP: real http.IncomingMessage / ServerResponse objects on a socket that
// discards what is written, so the figures are the server's own JavaScript
// (parsing and syscalls left out) and the load generator takes no CPU from it.
// Steadier than over loopback on a shared machine; for comparing changes, not
// for the README's table (make bench-server is that).
//   node bench/server-inprocess.js '<regex of contender names>' [cpu|latency] [requests per round] [rounds]
// cpu: CPU µs per request at 64 in flight (process.cpuUsage(), fresh keys);
// latency: one request at a time, µs from the request to the end of its
// response (p50 and p90), which for Redis and PostgreSQL includes their round trips.
// Each contender runs in its own child process (its heap and JIT its own);
// contenders are interleaved round by round.
// To compare builds in one run (same machine load for each), name them:
//   BENCH_BUILDS='head=/tmp/head/server/node.js,new=pkg/server/node.js' node bench/server-inprocess.js memory
// each durafetch contender then runs once per build (a copy of pkg/server/ with
// other JS files is a build: the .wasm does not need rebuilding for a JS change).
import http from 'node:http';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasTaskset } from './lib/child.js';
import { median, percentile } from './lib/stats.js';

const BODY = Buffer.from(JSON.stringify({ item: 'coffee', qty: 1 }));

class NullSocket extends Duplex {
  constructor() {
    super();
    this.remoteAddress = '127.0.0.1';
    this.encrypted = false;
  }

  _read() {}
  _write(chunk, encoding, callback) { callback(); }
  _writev(chunks, callback) { callback(); }
  setTimeout() { return this; }
  setNoDelay() { return this; }
  setKeepAlive() { return this; }
  destroySoon() { this.destroy(); }
}

let seq = 0;
/** One keep-alive POST /orders with a fresh key, as Node's HTTP parser would hand it over. */
function one(listener) {
  return new Promise((resolve, reject) => {
    const socket = new NullSocket();
    const req = new http.IncomingMessage(socket);
    seq += 1;
    const key = `inprocess-${process.pid}-${seq}`;
    req.method = 'POST';
    req.url = '/orders';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
    req.rawHeaders = ['Host', '127.0.0.1:8080', 'Content-Type', 'application/json', 'Content-Length', String(BODY.length),
      'Idempotency-Key', key, 'Connection', 'keep-alive'];
    req.headers = { host: '127.0.0.1:8080', 'content-type': 'application/json', 'content-length': String(BODY.length),
      'idempotency-key': key, connection: 'keep-alive' };
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = true;
    res.assignSocket(socket);
    res.on('finish', () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    listener(req, res);
    // The body arrives after the headers, as from a socket.
    setImmediate(() => { req.push(BODY); req.complete = true; req.push(null); });
  });
}

async function batch(listener, total, width) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < total) { next += 1; await one(listener); } }));
}

/** The child: one contender, measuring on each line it reads. */
async function child(config) {
  const { listenerOf } = await import('./server-listener.js');
  const listener = await listenerOf(config);
  await batch(listener, 3_000, 64); // warm up: JIT, connections
  process.stdout.write('ready\n');
  for await (const line of (await import('node:readline')).createInterface({ input: process.stdin })) {
    const [mode, count] = line.split(' ');
    if (mode === 'cpu') {
      const before = process.cpuUsage();
      await batch(listener, Number(count), 64);
      const used = process.cpuUsage(before);
      process.stdout.write(`${(used.user + used.system) / Number(count)}\n`);
    } else {
      const micros = [];
      for (let i = 0; i < Number(count); i++) {
        const start = process.hrtime.bigint();
        await one(listener);
        micros.push(Number(process.hrtime.bigint() - start) / 1000);
      }
      process.stdout.write(`${JSON.stringify(micros)}\n`);
    }
  }
  process.exit(0);
}

/** Each durafetch contender once per build in `spec` ('name=path,...'); bare ones once. */
function withBuilds(picked, spec) {
  if (!spec) return picked;
  const builds = spec.split(',').map((entry) => {
    const at = entry.indexOf('=');
    if (at < 1) throw new Error(`BENCH_BUILDS: expected name=path[,name=path...], got ${entry}`);
    return [entry.slice(0, at), pathToFileURL(path.resolve(entry.slice(at + 1))).href];
  });
  return picked.flatMap(([name, config]) => (config.guard !== 'durafetch' ? [[name, config]]
    : builds.map(([build, url]) => [`${name} [${build}]`, { ...config, build: url }])));
}

async function main() {
  const { selectContenders } = await import('./server-contenders.js');
  const { startRedis, startPostgres } = await import('../js-tests/server/services.js');
  const { createInterface } = await import('node:readline');
  const pattern = new RegExp(process.argv[2] ?? 'memory');
  const mode = process.argv[3] ?? 'cpu';
  const perRound = Number(process.argv[4] ?? (mode === 'cpu' ? 10_000 : 500));
  const rounds = Number(process.argv[5] ?? 6);
  const picked = withBuilds(selectContenders(pattern), process.env.BENCH_BUILDS);
  const redis = picked.some(([, c]) => /redis/.test(c.store ?? '') || /idempotency/.test(c.guard)) ? await startRedis() : undefined;
  const postgres = picked.some(([, c]) => c.store === 'postgres') ? await startPostgres() : undefined;
  const children = [];
  try {
    for (const [name, config] of picked) {
      const args = [fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...config, redisUrl: redis?.url, pgUrl: postgres?.url })];
      const [cmd, argv] = hasTaskset() ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
      const env = config.build ? { ...process.env, DF_SERVER: config.build } : process.env;
      const proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'], env });
      const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
      if ((await lines.next()).value !== 'ready') throw new Error(`${name} did not start`);
      children.push({ name, bare: config.guard === 'none', kind: config.kind, proc, lines, figures: [] });
    }
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < children.length; i++) {
        const c = children[(i + r) % children.length];
        c.proc.stdin.write(`${mode} ${perRound}\n`);
        c.figures.push(JSON.parse((await c.lines.next()).value));
      }
    }
    console.log(`${mode}: ${rounds} rounds × ${perRound} fresh-key POSTs ${mode === 'cpu' ? 'at 64 in flight' : 'one at a time'}, in process, pinned: ${hasTaskset()}\n`);
    if (mode === 'cpu') {
      console.log('| contender | CPU µs / request (min) | (median) | added to bare (median of per-round differences) |\n| --- | ---: | ---: | ---: |');
      for (const c of children) {
        const bare = children.find((b) => b.bare && b.kind === c.kind);
        const added = bare && bare !== c ? median(c.figures.map((f, i) => f - bare.figures[i])) : undefined;
        console.log(`| ${c.name} | ${Math.min(...c.figures).toFixed(1)} | ${median(c.figures).toFixed(1)} | ${added === undefined ? '' : `+${added.toFixed(1)}`} |`);
      }
    } else {
      console.log('| contender | p50 µs | p90 µs | added p50 (median of per-round differences) |\n| --- | ---: | ---: | ---: |');
      for (const c of children) {
        const bare = children.find((b) => b.bare && b.kind === c.kind);
        const all = c.figures.flat();
        const added = bare && bare !== c ? median(c.figures.map((f, i) => percentile(f, 50) - percentile(bare.figures[i], 50))) : undefined;
        console.log(`| ${c.name} | ${percentile(all, 50).toFixed(0)} | ${percentile(all, 90).toFixed(0)} | ${added === undefined ? '' : `+${added.toFixed(0)}`} |`);
      }
    }
  } finally {
    for (const c of children) c.proc.stdin.end();
    await redis?.stop();
    await postgres?.stop();
  }
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();
