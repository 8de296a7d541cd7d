// CPU cost per call (µs, p50) with a stub fetch that answers at once with a
// ready Response, so only library work is timed. Contenders run in
// interleaved rounds in one process. Prints one JSON line.
import { makeContenders } from './lib/contenders.js';
import { interleave, timeEachCall, flat, percentile, round } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 50);
const PER_ROUND = 500; // 50 × 500 = 25,000 timed calls per contender
const URL_ = 'http://127.0.0.1:9/orders';

const stubFetch = async () => new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });

const { contenders, close } = await makeContenders(stubFetch);
const recorded = await interleave(contenders, { rounds: ROUNDS, warmup: 4 }, (c) => timeEachCall(() => c.run(URL_), PER_ROUND));
await close();

const result = {};
for (const c of contenders) {
  const samples = flat(recorded.get(c.name));
  result[c.name] = { p50: round(percentile(samples, 50), 2), p90: round(percentile(samples, 90), 2), calls: samples.length };
}
console.log(JSON.stringify(result));
