// The durafetch/server table: each contender's latency and throughput, and
// what the middleware adds over the same handler without it (per round, the
// contender's percentile minus its bare handler's, then the median), with
// issue 19's targets checked against figures of the same run:
// - memory store: ≥ 90% of the bare handler's req/s at 64 in flight;
// - Redis: ≥ 75% of the bare req/s, added p50 ≤ +250 µs, and no more than
//   @node-idempotency's added p50 on Redis measured in the same run;
// - PostgreSQL: added p50 ≤ +500 µs.
const fmt = (n) => (n === undefined || n === null || Number.isNaN(n) ? '—'
  : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const signed = (n) => (n > 0 ? `+${fmt(n)}` : fmt(n));
const PEER = 'express + @node-idempotency/core, Redis';

function targets(name, c, bare, peer) {
  const ratio = c.reqPerS / bare.reqPerS;
  if (!name.includes('durafetch/server') && !name.includes('idempotent()')) return [];
  if (name.includes('memory')) return [['≥ 90% of bare req/s', ratio >= 0.9]];
  if (name.includes('Redis')) {
    const checks = [['≥ 75% of bare req/s', ratio >= 0.75], ['added p50 ≤ +250 µs', c.addedP50Us <= 250]];
    if (peer) checks.push([`added p50 ≤ @node-idempotency's (${signed(peer.addedP50Us)})`, c.addedP50Us <= peer.addedP50Us]);
    return checks;
  }
  if (name.includes('PostgreSQL')) return [['added p50 ≤ +500 µs', c.addedP50Us <= 500]];
  return [];
}

export function renderServerTable(server) {
  if (!server) return 'The server section did not run.';
  const head = ['Contender', 'p50 µs', 'p99 µs', 'added p50 µs', 'added p99 µs', 'req/s, 64 in flight', '÷ bare req/s', 'Target', 'Met'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  const peer = server.contenders[PEER];
  for (const [name, c] of Object.entries(server.contenders)) {
    const bare = name === c.baseline;
    const base = server.contenders[c.baseline];
    const checks = targets(name, c, base, peer);
    lines.push(`| ${[name, fmt(c.p50Us), fmt(c.p99Us), bare ? 'baseline' : signed(c.addedP50Us), bare ? 'baseline' : signed(c.addedP99Us),
      fmt(c.reqPerS), bare ? '1.00' : (c.reqPerS / base.reqPerS).toFixed(2), checks.map(([t]) => t).join('; '),
      checks.map(([, ok]) => (ok ? 'yes' : '**no**')).join('; ')].join(' | ')} |`);
  }
  return lines.join('\n');
}

export const SERVER_NOTES = 'Every request is a first request with a fresh key: claim, run, store (the path each operation takes once; ' +
  'a resend is a replay and cheaper). durafetch/server stores the answer *before* the response is sent, so its 2 store round ' +
  'trips (claim, complete) are both on the response path; so does the @node-idempotency contender here (onResponse awaited ' +
  'before sending: the same guarantee); express-idempotency makes 2 before its handler (a GET, then a SET: not atomic) and ' +
  'writes the answer after the response, fire and forget. Each server is its own process (pinned to CPU 1 when taskset ' +
  'exists), the load comes from the bench process (CPU 0) over keep-alive loopback HTTP, sequentially (latency) and 64 in ' +
  'flight (throughput); Redis and PostgreSQL are real local servers, unpinned. node-redis v6 defers its socket writes to ' +
  'setImmediate (auto-pipelining); v4, which express-idempotency\'s and @node-idempotency\'s adapters bundle, writes at once.';
