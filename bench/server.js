// durafetch/server's cost per request (issues 11 and 19): the same order
// handler bare, behind durafetch/server with each store, and behind the
// peers on Redis (express-idempotency, @node-idempotency/core), measured in
// one run. Each server runs
// in its own process (CPU 1 when taskset exists); the load comes from this
// one (CPU 0) over keep-alive loopback HTTP; Redis and PostgreSQL are real
// local servers started here. Every request is a first request with a fresh
// key (claim, run, store): the path every operation takes once.
// Sequential: p50 / p99 latency; 64 in flight: requests per second.
// Contenders are interleaved round by round. Prints one JSON line.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { hasTaskset } from './lib/child.js';
import { interleave, percentile, median, round } from './lib/stats.js';
import { startRedis, startPostgres } from '../js-tests/server/services.js';
import { CONTENDERS as ALL_CONTENDERS, selectContenders } from './server-contenders.js';

const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 8);
const SEQ_PER_ROUND = 300;
const CONCURRENCY = 64;
const CONC_PER_ROUND = 2_000;

// BENCH_SERVER_ONLY=<regex>: only the contenders it matches, and their bare baselines (for quick comparisons;
// make bench-server runs them all).
const only = process.env.BENCH_SERVER_ONLY ? new RegExp(process.env.BENCH_SERVER_ONLY) : undefined;
const CONTENDERS = only ? selectContenders(only) : ALL_CONTENDERS;

async function startTarget(config) {
  const script = fileURLToPath(new URL('./server-target.js', import.meta.url));
  const args = [script, JSON.stringify(config)];
  const [cmd, argv] = hasTaskset() ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  return { port: Number(String(chunk).trim()), stop: () => child.stdin.end() };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let keySeq = 0;
const BODY = JSON.stringify({ item: 'coffee', qty: 1 });

function post(port) {
  keySeq += 1;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/orders', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), 'idempotency-key': `bench-${process.pid}-${keySeq}` },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

async function sequential(port, count) {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await post(port);
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return micros;
}

async function batch(port, total, width) {
  let next = 0;
  const worker = async () => { while (next < total) { next += 1; await post(port); } };
  const start = performance.now();
  await Promise.all(Array.from({ length: width }, worker));
  return performance.now() - start;
}

const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
const targets = [];
try {
  for (const [name, config] of CONTENDERS) {
    targets.push({ name, baseline: config.kind === 'express' ? 'express' : 'fetch handler', ...(await startTarget({ ...config, redisUrl: redis.url, pgUrl: postgres.url })) });
  }
  for (const t of targets) await sequential(t.port, 200); // warm up: JIT, connections, prepared statements
  const seq = await interleave(targets, { rounds: ROUNDS, warmup: 1 }, (t) => sequential(t.port, SEQ_PER_ROUND));
  const conc = await interleave(targets, { rounds: Math.max(2, ROUNDS / 2), warmup: 1 }, (t) => batch(t.port, CONC_PER_ROUND, CONCURRENCY));
  const result = { pinned: hasTaskset(), rounds: ROUNDS, perRound: SEQ_PER_ROUND, concurrency: CONCURRENCY, contenders: {} };
  for (const t of targets) {
    const all = seq.get(t.name).flatMap((r) => Array.from(r));
    // Added latency: per round, this contender's percentile minus its baseline's, then the median over rounds.
    const added = (p) => median(seq.get(t.name).map((r, i) => percentile(r, p) - percentile(seq.get(t.baseline)[i], p)));
    result.contenders[t.name] = {
      baseline: t.baseline,
      p50Us: round(percentile(all, 50)),
      p99Us: round(percentile(all, 99)),
      addedP50Us: t.name === t.baseline ? 0 : round(added(50)),
      addedP99Us: t.name === t.baseline ? 0 : round(added(99)),
      reqPerS: round(CONC_PER_ROUND / (median(conc.get(t.name)) / 1000), 0),
    };
  }
  result.redis = 'redis-server (Debian), no persistence';
  result.postgres = 'PostgreSQL (Debian), fsync=off';
  console.log(JSON.stringify(result));
} finally {
  for (const t of targets) t.stop();
  agent.destroy();
  await Promise.all([redis.stop(), postgres.stop()]);
}
