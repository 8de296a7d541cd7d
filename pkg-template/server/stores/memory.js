// memoryStore(): records in a Map of this process. Each step is synchronous
// (it returns its answer, not a Promise: the engine then neither awaits nor
// arms a timer), so concurrent requests in this process cannot interleave
// within it. Its clock is this process's (`now`, the middleware's clock).
// Not shared between processes or instances: use Redis, PostgreSQL, a
// Durable Object or Deno KV for that.

export function memoryStore() {
  const records = new Map(); // id -> { fingerprint, owner, until, response }
  let sweepAt = 1024;

  // Expired records are dropped when the map has doubled since the last sweep:
  // no timer, and O(1) amortised per claim.
  function sweep(now) {
    for (const [id, r] of records) if (r.until <= now) records.delete(id);
    sweepAt = Math.max(1024, records.size * 2);
  }

  return {
    claim(id, { fingerprint, owner, now, leaseMs }) {
      const r = records.get(id);
      if (r !== undefined && r.until > now) {
        return { claimed: false, fingerprint: r.fingerprint, until: r.until, response: r.response };
      }
      records.set(id, { fingerprint, owner, until: now + leaseMs, response: null });
      if (records.size >= sweepAt) sweep(now);
      return { claimed: true };
    },

    complete(id, { owner, response, now, ttlMs }) {
      const r = records.get(id);
      if (r === undefined || r.owner !== owner || r.response !== null) return false;
      r.response = response;
      r.until = now + ttlMs;
      return true;
    },

    release(id, owner) {
      const r = records.get(id);
      if (r === undefined || r.owner !== owner || r.response !== null) return false;
      records.delete(id);
      return true;
    },

    /** Records still live at `now` (not part of the store interface). */
    size(now = Date.now()) {
      let live = 0;
      for (const r of records.values()) if (r.until > now) live += 1;
      return live;
    },

    /** Forgets everything (not part of the store interface). */
    clear() {
      records.clear();
    },
  };
}
