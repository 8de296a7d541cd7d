// The protocol every adapter (fetch handlers, Express) shares: claim the key
// in the store, ask the wasm core what the reply means, and after the handler
// store its answer or release the claim. The core decides; this file does
// the I/O, with a time limit on every store call (a store that hangs is a
// store that is down: fail closed).
//
// A store may answer synchronously (memoryStore does): then nothing here
// awaits or arms a timer, and claim/finish return their result directly.
// Callers handle both (`isThenable`); that keeps the in-process store's
// cost per request at a few microseconds. A memoryStore() used as it is
// lives in the core itself: admission, fingerprint, claim and verdict are
// then one call into the module, settling and storing another.
import { Engine } from './server.js';
import { IdempotencyError } from './errors.js';
import { memoryStore, recordsOf } from './stores/memory.js';

class StoreTimeout extends Error {
  constructor(ms) {
    super(`the store did not answer within storeTimeoutMs (${ms} ms)`);
    this.name = 'StoreTimeout';
  }
}

export const isThenable = (value) => value !== null && typeof value === 'object' && typeof value.then === 'function';

/**
 * A Promise of `onValue(value)` once `pending` resolves, or of `onError(error)`
 * once it rejects or `ms` have passed (a StoreTimeout); `onLate` sees a value
 * that came after the timeout. The handlers run in `pending`'s own reaction:
 * no Promise wrapped around another, so the caller resumes one microtask
 * after the store answers.
 */
function within(pending, ms, onValue, onError, onLate) {
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (handle, x) => {
      try { resolve(handle(x)); } catch (error) { reject(error); }
    };
    const timer = setTimeout(() => { done = true; settle(onError, new StoreTimeout(ms)); }, ms);
    pending.then(
      (value) => { if (done) onLate?.(value); else { done = true; clearTimeout(timer); settle(onValue, value); } },
      (error) => { if (!done) { done = true; clearTimeout(timer); settle(onError, error); } },
    );
  });
}

/** `call()`: a store method's result, or a rejected Promise if it threw. */
function attempt(call) {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** 16 random hex digits: this engine's part of every owner token it makes. */
function randomHex() {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
  const leaseMs = core.leaseMs;
  const ttlMs = core.ttlMs;
  const onStoreError = options.onStoreError;
  // Owner tokens: unique per claim across every process sharing the store
  // (64 random bits per engine, then a counter), and a short flat string:
  // a record keeps its owner for the whole lease. Drawn at the first claim:
  // workerd allows no random values at a module's top level.
  let instance;
  let claims = 0;

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

  /** A misconfigured store (IdempotencyError) is the operator's to fix: thrown, not hidden in a 503. */
  function rethrowSetup(error) {
    if (IdempotencyError.is(error)) throw error;
  }

  /** A fresh owner token. */
  function nextOwner() {
    instance ??= randomHex();
    claims += 1;
    return `${instance}${claims.toString(36)}`;
  }

  function release(claim) {
    if (claim.records !== undefined) return claim.records.release(claim.key, claim.owner);
    const released = attempt(() => store.release(claim.key, claim.owner));
    if (!isThenable(released)) return released === true;
    return within(released, timeoutMs, (r) => r === true, (error) => { report(error, 'release', claim.key); return false; });
  }

  function decided(key, owner, claimant, reply) {
    // `claimed: true` is the store saying "yours": run (the contract, not a
    // decision); every other reply, well-formed or not, is the core's to judge.
    const verdict = reply?.claimed === true ? null : core.decide(reply?.claimed, reply?.fingerprint, reply?.response, claimant);
    return { verdict, reply, key, owner, startedAt: performance.now() };
  }

  /**
   * Claims the key for `claimant`. Returns (or resolves with)
   * `{ verdict, reply, key, owner }`: verdict null means "run the handler,
   * then call finish or release"; otherwise answer with the verdict (a
   * problem, or a replay of `reply.response`).
   */
  function claim(key, claimant) {
    const owner = nextOwner();
    const reply = attempt(() => store.claim(key, { fingerprint: claimant, owner, now: clock(), leaseMs }));
    if (!isThenable(reply)) return decided(key, owner, claimant, reply);
    return within(reply, timeoutMs, (r) => decided(key, owner, claimant, r), (error) => {
      rethrowSetup(error);
      report(error, 'claim', key);
      return decided(key, owner, claimant, undefined); // unreachable: the core answers 503
    },
    // A claim that lands after we answered 503 would block the key for a lease: give it back.
    (late) => { if (late && late.claimed === true) release({ key, owner }); });
  }

  /**
   * The answer is stored before it is sent: a complete that fails (the store
   * is restarting, a failover) is retried while the lease still holds, so the
   * resends waiting on 409 get the answer instead of running the handler
   * again once the lease ends. Then it gives up (reported) and the answer is
   * sent unstored.
   */
  async function completeUntilStored(claim, record, firstError) {
    let error = firstError;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      rethrowSetup(error);
      report(error, 'complete', claim.key);
      if (performance.now() - claim.startedAt + delay + timeoutMs >= leaseMs) return false;
      await sleep(delay);
      try {
        const result = attempt(() => store.complete(claim.key, { owner: claim.owner, response: record, now: clock(), ttlMs }));
        if (!isThenable(result)) return result === true;
        return await within(result, timeoutMs, (r) => r === true, (next) => { throw next; });
      } catch (next) {
        error = next;
      }
    }
  }

  return {
    /** The key header's name, lower-case. */
    header: core.header,
    maxBodyBytes: core.maxBodyBytes,
    maxRequestBytes: core.maxRequestBytes,
    customScope: options.scope,
    customFingerprint: options.fingerprint,

    /** undefined: pass through; a string: the key; an object: a problem to answer. */
    admit: (method, headerValue) => core.admit(method, headerValue ?? undefined),

    /** The 413 problem for a body over maxRequestBytes. */
    tooLarge: () => core.tooLarge(),

    /** This request's claimant: its scope and fingerprint, as stored. */
    claimant: (method, pathAndQuery, body, scope) => core.claimant(method, pathAndQuery, body, scope),

    /** A caller's `fingerprint(request)` result, as a claimant. */
    customClaimant(value, scope) {
      if (typeof value !== 'string') {
        throw new IdempotencyError('invalid-fingerprint', `fingerprint(request) must return a string, got ${typeof value}`);
      }
      return core.customClaimant(value, scope);
    },

    /** `scope` may be a string, or null/undefined for none. */
    checkScope(scope) {
      if (scope === undefined || scope === null || typeof scope === 'string') return scope ?? undefined;
      throw new IdempotencyError('invalid-scope', `scope(request) must return a string, null or undefined, got ${typeof scope}`);
    },

    claim,

    /**
     * For a body already held (bytes, or text whose UTF-8 bytes are the
     * body) and the default scope and fingerprint: admission, fingerprint
     * and claim. Returns undefined (pass through), or a claim (or a Promise
     * of one) as claim() does; an inadmissible key is a claim whose verdict
     * is its problem. With a memoryStore() all of it is one call into the core.
     */
    admitAndClaim(method, headerValue, pathAndQuery, body, scope) {
      const records = recordsOf(store);
      if (records !== undefined) {
        const owner = nextOwner();
        const now = clock();
        const r = typeof body === 'string'
          ? core.claimInText(records, method, headerValue, pathAndQuery, body, scope, owner, now)
          : core.claimIn(records, method, headerValue, pathAndQuery, body, scope, owner, now);
        if (r === undefined) return undefined;
        // Claimed: true (the key is the header as sent) or the key. Else a problem, or a replay whose `response` is the stored bytes.
        if (r === true) return { verdict: null, reply: undefined, key: headerValue, owner, records };
        return typeof r === 'string' ? { verdict: null, reply: undefined, key: r, owner, records } : { verdict: r, reply: r };
      }
      // admit, then claimant, in one call: the claimant, a space, the key.
      const begun = typeof body === 'string'
        ? core.beginText(method, headerValue, pathAndQuery, body, scope)
        : core.begin(method, headerValue, pathAndQuery, body, scope);
      if (begun === undefined) return undefined;
      if (typeof begun !== 'string') return { verdict: begun, reply: undefined };
      const at = begun.indexOf(' ');
      return claim(begun.slice(at + 1), begun.slice(0, at));
    },

    /**
     * After the handler: stores its answer or releases the claim.
     * `headers`: `name:value` lines; `body`: the buffered body, or undefined
     * when it was over maxBodyBytes. Returns (or resolves with) true when the
     * answer is stored.
     */
    finish(claim, status, headers, body) {
      if (claim.records !== undefined) return core.finishIn(claim.records, claim.key, claim.owner, status, headers, body, clock());
      const record = core.settle(status, headers, body, storeLimit);
      if (record === undefined) {
        const released = release(claim);
        return isThenable(released) ? released.then(() => false) : false;
      }
      const stored = attempt(() => store.complete(claim.key, { owner: claim.owner, response: record, now: clock(), ttlMs }));
      if (!isThenable(stored)) return stored === true;
      return within(stored, timeoutMs, (r) => r === true, (error) => completeUntilStored(claim, record, error));
    },

    release,
  };
}

/** `name:value` lines from `[name, value]` pairs (Headers, or Node's res.getHeaders()). */
export function headerText(pairs) {
  let text = '';
  for (const [name, value] of pairs) text += `${name}:${value}\n`;
  return text;
}
