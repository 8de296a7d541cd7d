// The protocol every adapter (fetch handlers, Express) shares: claim the key
// in the store, ask the wasm core what the reply means, and after the handler
// store its answer or release the claim. The core decides; this file does
// the I/O, with a time limit on every store call (a store that hangs is a
// store that is down: fail closed).
import { Engine } from './server.js';
import { IdempotencyError } from './errors.js';
import { memoryStore } from './stores/memory.js';

class StoreTimeout extends Error {
  constructor(ms) {
    super(`the store did not answer within storeTimeoutMs (${ms} ms)`);
    this.name = 'StoreTimeout';
  }
}

/** Settles like `call()`, or rejects after `ms`; `onLate` sees a value that came too late. */
function withTimeout(call, ms, onLate) {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; reject(new StoreTimeout(ms)); }, ms);
    let pending;
    try {
      pending = Promise.resolve(call());
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => { if (timedOut) onLate?.(value); else { clearTimeout(timer); resolve(value); } },
      (error) => { if (!timedOut) { clearTimeout(timer); reject(error); } },
    );
  });
}

function validateStore(store) {
  const limit = store.maxResponseBytes;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw IdempotencyError.invalidOption('store', 'a store whose maxResponseBytes, if set, is a positive integer', limit);
  }
  return limit;
}

/**
 * Validates `options` (throws IdempotencyError 'invalid-option') and returns
 * the steps of one request's life.
 */
export function createEngine(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw IdempotencyError.invalidOption('options', 'an object', options);
  }
  let core;
  try {
    core = new Engine(options);
  } catch (error) {
    if (error && typeof error.option === 'string') {
      throw IdempotencyError.invalidOption(error.option, error.expected, options[error.option]);
    }
    throw error;
  }
  const store = options.store ?? memoryStore();
  const storeLimit = validateStore(store);
  const now = options.now ?? Date.now;
  const timeoutMs = core.storeTimeoutMs;
  const onStoreError = options.onStoreError;

  /** Tells the operator; never lets their callback break a request. */
  function report(error, step, id) {
    if (!onStoreError) return;
    try { onStoreError(error, { step, id }); } catch { /* the caller's bug, not the request's */ }
  }

  function clock() {
    const t = now();
    if (!Number.isFinite(t)) throw IdempotencyError.invalidOption('now', 'a function returning epoch milliseconds', t);
    return t;
  }

  function release(claim) {
    return withTimeout(() => store.release(claim.id, claim.owner), timeoutMs)
      .then((released) => released === true, (error) => { report(error, 'release', claim.id); return false; });
  }

  return {
    /** The key header's name, lower-case. */
    header: core.header,
    maxBodyBytes: core.maxBodyBytes,
    customScope: options.scope,
    customFingerprint: options.fingerprint,

    /** undefined: pass through; a string: the key; an object: a problem to answer. */
    admit: (method, headerValue) => core.admit(method, headerValue ?? undefined),

    fingerprint: (method, pathAndQuery, body) => core.fingerprint(method, pathAndQuery, body),

    /** A caller's `fingerprint(request)` result, hashed. */
    customFingerprintOf(value) {
      if (typeof value !== 'string') {
        throw new IdempotencyError('invalid-fingerprint', `fingerprint(request) must return a string, got ${typeof value}`);
      }
      return core.textFingerprint(value);
    },

    /** `scope` may be a string, or null/undefined for none. */
    checkScope(scope) {
      if (scope === undefined || scope === null || typeof scope === 'string') return scope ?? undefined;
      throw new IdempotencyError('invalid-scope', `scope(request) must return a string, null or undefined, got ${typeof scope}`);
    },

    /**
     * Claims (scope, key). Resolves with `{ verdict, reply, id, owner }`:
     * verdict null means "run the handler, then call finish or release".
     */
    async claim(key, scope, fingerprint) {
      const id = core.recordId(scope, key);
      const owner = crypto.randomUUID();
      const t = clock();
      let reply;
      try {
        reply = await withTimeout(
          () => store.claim(id, { fingerprint, owner, now: t, until: core.leaseUntil(t) }),
          timeoutMs,
          // A claim that lands after we answered 503 would block the key for a lease: give it back.
          (late) => { if (late && late.claimed === true) release({ id, owner }); },
        );
      } catch (error) {
        report(error, 'claim', id);
        reply = undefined; // unreachable: the core answers 503
      }
      return { verdict: core.decide(reply, fingerprint), reply, id, owner };
    },

    /**
     * After the handler: stores its answer or releases the claim.
     * `body` is the buffered body, or undefined when it was over maxBodyBytes.
     * Resolves true when the answer is stored.
     */
    async finish(claim, status, headers, body) {
      const record = core.settle(status, headers, body, storeLimit);
      if (record === undefined) {
        await release(claim);
        return false;
      }
      const t = clock();
      try {
        const stored = await withTimeout(
          () => store.complete(claim.id, { owner: claim.owner, response: record, now: t, until: core.answerUntil(t) }),
          timeoutMs);
        return stored === true;
      } catch (error) {
        report(error, 'complete', claim.id); // the caller still gets the answer; the lease then expires
        return false;
      }
    },

    release,
  };
}
