// memoryStore(): records in this process, kept in the wasm module's memory
// (the core's reference store, the one the claim simulation drives): not JS
// objects, so a day of stored answers adds nothing to what the garbage
// collector traces. Each step is synchronous (it returns its answer, not a
// Promise: the engine then neither awaits nor arms a timer), so concurrent
// requests in this process cannot interleave within it. The engine reaches
// into it directly (one call into the module before the handler, one after);
// a copy whose methods are wrapped is called through them. Its clock is this
// process's (`now`, the middleware's clock). Not shared between processes or
// instances: use Redis, PostgreSQL, a Durable Object or Deno KV for that.
import { MemoryRecords } from '../server.js';

const stores = new WeakMap(); // a memoryStore() -> { held: () => its records, claim, complete, release }

/**
 * The records behind `store` if it is a memoryStore() used as it is, for the
 * engine's direct calls; undefined for any other store, or one whose
 * methods were replaced or wrapped (those calls must go through them).
 */
export function recordsOf(store) {
  const known = stores.get(store);
  if (known === undefined) return undefined;
  return store.claim === known.claim && store.complete === known.complete && store.release === known.release ? known.held() : undefined;
}

export function memoryStore() {
  // Made at first use: the ids' hash is keyed with random bytes, and workerd
  // allows no random values at a module's top level.
  let records;
  const held = () => (records ??= new MemoryRecords(crypto.getRandomValues(new Uint8Array(16))));
  const store = {
    claim(id, { fingerprint, owner, now, leaseMs }) {
      return held().claim(id, fingerprint, owner, now, leaseMs);
    },

    complete(id, { owner, response, now, ttlMs }) {
      return held().complete(id, owner, response, now, ttlMs);
    },

    release(id, owner) {
      return held().release(id, owner);
    },

    /** Records still live at `now` (not part of the store interface). */
    size(now = Date.now()) {
      return held().live(now);
    },

    /** Forgets everything (not part of the store interface). */
    clear() {
      held().clear();
    },
  };
  stores.set(store, { held, claim: store.claim, complete: store.complete, release: store.release });
  return store;
}
