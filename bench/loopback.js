// Real HTTP on loopback: every contender through Node's own fetch against a
// server in another process (client on CPU 0, server on CPU 1 when taskset
// exists). Sequential: p50 latency per request; 64 in flight: wall time of a
// batch. Both as ratios to raw fetch in the same round. Prints one JSON line.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { makeContenders } from './lib/contenders.js';
import { hasTaskset } from './lib/child.js';
import { interleave, timeEachCall, flat, percentile, medianRatio, round } from './lib/stats.js';

const SEQ_ROUNDS = Number(process.env.BENCH_LOOPBACK_ROUNDS ?? 12);
const SEQ_PER_ROUND = 250;
const CONCURRENCY = 64;
const CONC_PER_ROUND = 2_000;

async function startServer() {
  const script = fileURLToPath(new URL('./loopback-server.js', import.meta.url));
  const [cmd, args] = hasTaskset() ? ['taskset', ['-c', '1', process.execPath, script]] : [process.execPath, [script]];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  return { url: `http://127.0.0.1:${String(chunk).trim()}/orders`, stop: () => child.stdin.end() };
}

/** Runs `total` calls with `width` of them in flight; returns wall ms. */
async function batch(run, url, total, width) {
  let next = 0;
  const worker = async () => { while (next < total) { next += 1; await run(url); } };
  const start = performance.now();
  await Promise.all(Array.from({ length: width }, worker));
  return performance.now() - start;
}

const server = await startServer();
try {
  const { contenders, close } = await makeContenders(fetch, { drain: (res) => res.arrayBuffer() });
  const baselineOf = (c) => (c.method === 'POST' ? 'raw POST' : 'raw');
  const sequential = await interleave(contenders, { rounds: SEQ_ROUNDS, warmup: 2 },
    (c) => timeEachCall(() => c.run(server.url), SEQ_PER_ROUND));
  const seqP50 = new Map([...sequential].map(([name, rounds]) => [name, rounds.map((r) => percentile(r, 50))]));
  const concurrent = await interleave(contenders, { rounds: SEQ_ROUNDS, warmup: 2 },
    (c) => batch(c.run, server.url, CONC_PER_ROUND, CONCURRENCY));
  await close();

  const result = { pinned: hasTaskset(), concurrency: CONCURRENCY };
  for (const c of contenders) {
    result[c.name] = {
      baseline: baselineOf(c),
      seqP50Us: round(percentile(flat(sequential.get(c.name)), 50)),
      seqRatio: round(medianRatio(seqP50, c.name, baselineOf(c)), 3),
      concReqPerS: round(CONC_PER_ROUND / (percentile(concurrent.get(c.name), 50) / 1000), 0),
      concRatio: round(medianRatio(concurrent, c.name, baselineOf(c)), 3),
    };
  }
  console.log(JSON.stringify(result));
} finally {
  server.stop();
}
