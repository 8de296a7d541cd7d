// Order statistics and interleaved rounds. Figures from one run are compared
// as ratios of contenders measured side by side, never as absolute times
// across runs: rounds rotate the order so no contender always runs first.

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => percentile(values, 50);

/** Runs `measure(contender, roundIndex)` for every contender in every round,
 * rotating the order; rounds below `warmup` are run but not recorded. */
export async function interleave(contenders, { rounds, warmup = 0 }, measure) {
  const recorded = new Map(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < warmup + rounds; r += 1) {
    for (let i = 0; i < contenders.length; i += 1) {
      const contender = contenders[(i + r) % contenders.length];
      const figure = await measure(contender, r);
      if (r >= warmup) recorded.get(contender.name).push(figure);
    }
  }
  return recorded;
}

/** Times each of `count` sequential awaited calls; returns microseconds. */
export async function timeEachCall(call, count) {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    await call();
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return micros;
}

/** Flattens recorded per-round arrays into one. */
export function flat(rounds) {
  return rounds.flatMap((r) => Array.from(r));
}

/** Median over rounds of (contender's figure / baseline's figure in the same round). */
export function medianRatio(recorded, name, baseline) {
  const mine = recorded.get(name);
  const base = recorded.get(baseline);
  return median(mine.map((figure, r) => figure / base[r]));
}

export const round = (value, digits = 1) => Number(value.toFixed(digits));
