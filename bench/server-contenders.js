// The servers bench/server.js and bench/server-cpu.js measure: the same order
// handler bare, behind durafetch/server with each store, and behind the peers
// on Redis. Each config is what bench/server-target.js starts.
export const CONTENDERS = [
  ['express', { kind: 'express', guard: 'none' }],
  ['express + durafetch/server, memory', { kind: 'express', guard: 'durafetch', store: 'memory' }],
  ['express + durafetch/server, Redis', { kind: 'express', guard: 'durafetch', store: 'redis' }],
  ['express + durafetch/server, Redis (node-redis v4 client)', { kind: 'express', guard: 'durafetch', store: 'redis-v4' }],
  ['express + durafetch/server, PostgreSQL', { kind: 'express', guard: 'durafetch', store: 'postgres' }],
  ['express + express-idempotency, Redis', { kind: 'express', guard: 'express-idempotency' }],
  ['express + @node-idempotency/core, Redis', { kind: 'express', guard: 'node-idempotency' }],
  ['fetch handler', { kind: 'fetch', guard: 'none' }],
  ['fetch handler + idempotent(), memory', { kind: 'fetch', guard: 'durafetch', store: 'memory' }],
  ['fetch handler + idempotent(), Redis', { kind: 'fetch', guard: 'durafetch', store: 'redis' }],
  ['fetch handler + idempotent(), Redis (node-redis v4 client)', { kind: 'fetch', guard: 'durafetch', store: 'redis-v4' }],
  ['fetch handler + idempotent(), PostgreSQL', { kind: 'fetch', guard: 'durafetch', store: 'postgres' }],
];

/** The contenders whose name matches `pattern`, with the bare baselines they are compared to. */
export function selectContenders(pattern) {
  const picked = CONTENDERS.filter(([name]) => pattern.test(name));
  const kinds = new Set(picked.map(([, c]) => c.kind));
  return CONTENDERS.filter(([name, c]) => pattern.test(name) || (c.guard === 'none' && kinds.has(c.kind)));
}
