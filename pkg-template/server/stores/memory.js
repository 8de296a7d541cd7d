// memoryStore(): records in a Map of this process. Each step runs in one
// synchronous stretch (no await inside), so concurrent requests in this
// process cannot interleave within it. Not shared between processes or
// instances: use Redis, PostgreSQL, a Durable Object or Deno KV for that.

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
    async claim(id, { fingerprint, owner, now, until }) {
      const r = records.get(id);
      if (r !== undefined && r.until > now) {
        return { claimed: false, fingerprint: r.fingerprint, until: r.until, response: r.response };
      }
      records.set(id, { fingerprint, owner, until, response: null });
      if (records.size >= sweepAt) sweep(now);
      return { claimed: true };
    },

    async complete(id, { owner, response, until }) {
      const r = records.get(id);
      if (r === undefined || r.owner !== owner || r.response !== null) return false;
      r.response = response;
      r.until = until;
      return true;
    },

    async release(id, owner) {
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
