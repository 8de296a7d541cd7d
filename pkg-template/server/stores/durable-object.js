// durableObjectStore(storage): records in a Cloudflare Durable Object's
// storage (`ctx.storage`). Its clock is the object's (the `now` the
// middleware passes: the same isolate). Use it inside the object that runs the handler,
// and route every request of a key to the same object (e.g.
// `env.NS.idFromName(scope)`): one object is one single-threaded point of
// coordination. Each step runs in a storage transaction, so it is atomic even
// if requests interleave at an await.
// Values are limited (128 KiB for key-value storage): a larger answer is
// stored without its body (maxResponseBytes).

import { IdempotencyError } from '../errors.js';

export function durableObjectStore(storage, { prefix = 'durafetch:idempotency:' } = {}) {
  if (!storage || typeof storage.transaction !== 'function') {
    throw new IdempotencyError('invalid-store', 'durableObjectStore(storage): expected a Durable Object storage (ctx.storage)');
  }
  return {
    maxResponseBytes: 128 * 1024 - 1024,

    claim: (id, { fingerprint, owner, now, leaseMs }) => storage.transaction(async (txn) => {
      const r = await txn.get(prefix + id);
      if (r !== undefined && r.until > now) {
        return { claimed: false, fingerprint: r.fingerprint, until: r.until, response: r.response };
      }
      await txn.put(prefix + id, { fingerprint, owner, until: now + leaseMs, response: null });
      return { claimed: true };
    }),

    complete: (id, { owner, response, now, ttlMs }) => storage.transaction(async (txn) => {
      const r = await txn.get(prefix + id);
      if (r === undefined || r.owner !== owner || r.response !== null) return false;
      await txn.put(prefix + id, { ...r, response, until: now + ttlMs });
      return true;
    }),

    release: (id, owner) => storage.transaction(async (txn) => {
      const r = await txn.get(prefix + id);
      if (r === undefined || r.owner !== owner || r.response !== null) return false;
      await txn.delete(prefix + id);
      return true;
    }),

    /** Deletes records whose `until` has passed (call it from an alarm); resolves with how many. */
    async deleteExpired(now = Date.now()) {
      const expired = [];
      for (const [key, r] of await storage.list({ prefix })) if (r.until <= now) expired.push(key);
      for (let i = 0; i < expired.length; i += 128) await storage.delete(expired.slice(i, i + 128));
      return expired.length;
    },
  };
}
