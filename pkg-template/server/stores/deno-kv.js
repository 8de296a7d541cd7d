// denoKvStore(kv): records in Deno KV (`await Deno.openKv()`; Deno 2.9 needs
// --unstable-kv), shared by every process that opens the same database. KV
// has no server-side scripts: each step reads the record, then commits with
// `atomic().check(entry)`, which fails if anyone wrote it in between; a
// failed check, or a local KV file's "database is locked" (nothing written),
// is retried (boundedly) from the read. Records are set with
// `expireIn`, so KV forgets them by itself. Values are limited to 64 KiB: a
// larger answer is stored without its body (maxResponseBytes).
// KV has no clock of its own in a commit: leases are compared on the `now`
// of the process that commits (the middleware's clock), so the processes
// sharing a KV must keep their clocks in sync (NTP: milliseconds; a lease is
// a minute). Redis and PostgreSQL use their own clock instead.
import { IdempotencyError } from '../errors.js';

const MAX_ATTEMPTS = 32;

export function denoKvStore(kv, { prefix = ['durafetch', 'idempotency'] } = {}) {
  if (!kv || typeof kv.atomic !== 'function') throw new IdempotencyError('invalid-store', 'denoKvStore(kv): expected a Deno.Kv (await Deno.openKv())');
  if (!Array.isArray(prefix)) throw IdempotencyError.invalidOption('denoKvStore(kv, { prefix })', 'an array of key parts', prefix);
  const keyOf = (id) => [...prefix, id];
  const expireIn = (ms) => Math.max(1, Math.ceil(ms));

  /**
   * Runs `step(record)` until its commit is not overtaken by a concurrent write.
   * A local KV file shared by processes can also answer "database is locked"
   * (SQLite busy): nothing was written then, so that is retried too.
   */
  async function atomically(id, step) {
    const key = keyOf(id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const entry = await kv.get(key);
        const { result, op } = step(entry.value ?? undefined);
        if (op === undefined) return result;
        const commit = await op(kv.atomic().check(entry), key).commit();
        if (commit.ok) return result;
      } catch (error) {
        if (!/database is locked/i.test(String(error?.message))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new Error(`Deno KV: ${MAX_ATTEMPTS} commits in a row were overtaken by concurrent writes or a locked database`);
  }

  return {
    maxResponseBytes: 64 * 1024 - 1024,

    claim: (id, { fingerprint, owner, now, leaseMs }) => atomically(id, (r) => {
      if (r !== undefined && r.until > now) {
        return { result: { claimed: false, fingerprint: r.fingerprint, until: r.until, response: r.response } };
      }
      const record = { fingerprint, owner, until: now + leaseMs, response: null };
      return { result: { claimed: true }, op: (atomic, key) => atomic.set(key, record, { expireIn: expireIn(leaseMs) }) };
    }),

    complete: (id, { owner, response, now, ttlMs }) => atomically(id, (r) => {
      if (r === undefined || r.owner !== owner || r.response !== null) return { result: false };
      const record = { ...r, response, until: now + ttlMs };
      return { result: true, op: (atomic, key) => atomic.set(key, record, { expireIn: expireIn(ttlMs) }) };
    }),

    release: (id, owner) => atomically(id, (r) => {
      if (r === undefined || r.owner !== owner || r.response !== null) return { result: false };
      return { result: true, op: (atomic, key) => atomic.delete(key) };
    }),
  };
}
