// In-memory Idempotency-Key store for the durafetch demo server.
//
// Semantics follow draft-ietf-httpapi-idempotency-key-header and Stripe:
// a key is bound to a request fingerprint; while the first request runs the
// key is `processing`, afterwards it holds the stored response (`done`).
// Keys older than `retentionMs` are forgotten and treated as new.

import { createHash } from 'node:crypto';

/** Fingerprint = method + path + sha256(raw body). A reused key with a
 *  different fingerprint is a client bug (422), not a retry. */
export function fingerprint(method, path, rawBody) {
  const digest = createHash('sha256').update(rawBody ?? '').digest('hex');
  return `${method.toUpperCase()} ${path} ${digest}`;
}

export function createIdempotencyStore({ retentionMs = 24 * 3600 * 1000, now = () => Date.now() } = {}) {
  /** key -> { key, fingerprint, state: 'processing'|'done', createdAt, response? } */
  const entries = new Map();

  const expired = (entry, t) => t - entry.createdAt >= retentionMs;

  /**
   * Claim `key` for a request with `fp`, or report why it can't be claimed.
   * Returns one of:
   *   { outcome: 'new', entry }        caller owns the key and must complete() or release()
   *   { outcome: 'mismatch', entry }   same key, different payload -> 422
   *   { outcome: 'processing', entry } first request still running -> 409
   *   { outcome: 'done', entry }       replay entry.response
   *
   * ATOMICITY: the lookup and the insert below run in one synchronous stretch
   * with no `await` in between. Node runs JS on a single thread, so no other
   * request handler can interleave between `get` and `set`; two concurrent
   * requests with the same key can never both see 'new'. Keep this function
   * synchronous - adding an await here would reintroduce the race.
   */
  function begin(key, fp) {
    const t = now();
    const existing = entries.get(key);
    if (existing && !expired(existing, t)) {
      if (existing.fingerprint !== fp) return { outcome: 'mismatch', entry: existing };
      return { outcome: existing.state, entry: existing };
    }
    const entry = { key, fingerprint: fp, state: 'processing', createdAt: t, response: null };
    entries.set(key, entry);
    return { outcome: 'new', entry };
  }

  /** Store the final response. Ignored if the entry was cleared/replaced
   *  meanwhile (e.g. POST /reset while the request was in flight). */
  function complete(entry, response) {
    if (entries.get(entry.key) !== entry) return false;
    entry.state = 'done';
    entry.response = response;
    return true;
  }

  /** Give the key back (processing failed before a response was decided),
   *  so a retry is processed instead of getting 409 forever. */
  function release(entry) {
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
  }

  /** Drop expired keys; called lazily so there are no background timers. */
  function prune() {
    const t = now();
    for (const [key, entry] of entries) if (expired(entry, t)) entries.delete(key);
  }

  function size() {
    prune();
    return entries.size;
  }

  return { begin, complete, release, prune, size, clear: () => entries.clear(), entries };
}
