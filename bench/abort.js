// What an attempt's cancellation costs (issue 16): durafetch makes one
// AbortController per attempt and lets the engine's one timer per client
// cancel attempts past their deadline. The alternatives, timed the same way
// as bench/cpu.js (a stub fetch answering at once, µs per call, p50, rounds
// interleaved): no signal at all (the floor), a controller per attempt (as
// durafetch), AbortSignal.timeout per attempt, and a controller plus its own
// setTimeout/clearTimeout per attempt. Prints one JSON line.
import { interleave, timeEachCall, flat, percentile, round } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 50);
const PER_ROUND = 500;
const TIMEOUT_MS = 30_000;
const stubFetch = async (url, init) => {
  if (init?.signal?.aborted) throw init.signal.reason;
  return new Response('{"ok":true}', { status: 200 });
};
const drained = (response) => response.arrayBuffer();

const contenders = [
  { name: 'no signal', run: () => stubFetch('x', {}).then(drained) },
  { name: 'AbortController per attempt (durafetch)', run: () => stubFetch('x', { signal: new AbortController().signal }).then(drained) },
  { name: 'AbortSignal.timeout per attempt', run: () => stubFetch('x', { signal: AbortSignal.timeout(TIMEOUT_MS) }).then(drained) },
  {
    name: 'AbortController + setTimeout per attempt',
    run: () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      return stubFetch('x', { signal: controller.signal }).then(drained).finally(() => clearTimeout(timer));
    },
  },
];
const recorded = await interleave(contenders, { rounds: ROUNDS, warmup: 4 }, (c) => timeEachCall(c.run, PER_ROUND));
const result = {};
for (const c of contenders) {
  const samples = flat(recorded.get(c.name));
  result[c.name] = { p50: round(percentile(samples, 50), 2), p90: round(percentile(samples, 90), 2) };
}
console.log(JSON.stringify(result));
