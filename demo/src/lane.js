// One client's side of the timeline: a row per order, a mark per attempt,
// the waits between them. Plain data, so it can be saved across a reload.
//
// Row:  { n, id, key, state, marks }
//   state: 'flying' (being sent) | 'outbox' (stored, waiting to be resent)
//          | 'ok' | 'failed' | 'lost' (cut by a reload, nothing will resend it)
//          | 'unseen' (answered while the old page was unloading; see reconcile)
// Mark: { t: 'attempt', o: outcome, status?, resumed? } | { t: 'wait', ms }
//       | { t: 'reload' } | { t: 'breaker' }
//   outcome: 'sent' | 'dropped' | 's503' | 's429' | 'ok' | 'other' | 'timeout' | 'lost'

/** What an attempt's end looks like on the timeline. */
export function outcomeOf(reason, status) {
  if (reason === 'network') return 'dropped';
  if (reason === 'timeout') return 'timeout';
  if (status === 503) return 's503';
  if (status === 429) return 's429';
  if (status >= 200 && status < 300) return 'ok';
  return 'other';
}

export class Lane {
  constructor(rows = []) {
    this.rows = new Map(rows.map((r) => [r.n, r]));
    this.byKey = new Map(rows.filter((r) => r.key).map((r) => [r.key, r]));
  }

  add(n, id) {
    const row = { n, id, key: null, state: 'flying', marks: [] };
    this.rows.set(n, row);
    return row;
  }

  get(n) { return this.rows.get(n); }

  /** The row of a durafetch key; `n` (from the request URL) binds a new key. */
  forKey(key, n) {
    let row = this.byKey.get(key);
    if (row || n === undefined) return row;
    row = this.rows.get(n) ?? this.add(n, null); // placed before a Reset
    return this.bind(row, key) ? row : undefined; // bound already: not ours after all
  }

  /** Ties `key` to `row` when no event could (e.g. queued before any attempt). */
  bind(row, key) {
    if (row.key) return false;
    row.key = key;
    this.byKey.set(key, row);
    return true;
  }

  attempt(row, { resumed = false } = {}) {
    row.marks.push({ t: 'attempt', o: 'sent', resumed });
    row.state = 'flying';
  }

  /** The last attempt failed transiently; the next one comes after `delayMs`. */
  retry(row, { reason, status, delayMs, resumed = false }) {
    this.#endAttempt(row, outcomeOf(reason, status), status);
    row.marks.push({ t: 'wait', ms: Math.round(delayMs) });
    if (resumed) row.state = 'outbox';
  }

  settled(row, { status }) {
    this.#endAttempt(row, outcomeOf(null, status), status);
    row.state = status >= 200 && status < 300 ? 'ok' : 'failed';
  }

  /** durafetch's live call ended without an answer: the outbox keeps it. */
  queued(row, { reason, status }) {
    if (reason === 'circuit-open') row.marks.push({ t: 'breaker' });
    else this.#endAttempt(row, outcomeOf(reason, status), status);
    row.state = 'outbox';
  }

  failed(row, { reason, status } = {}) {
    this.#endAttempt(row, outcomeOf(reason, status), status);
    row.state = 'failed';
  }

  /**
   * The page is going away. `durable`: the operations are stored and will be
   * resent by the next page; otherwise whatever was in flight is lost.
   */
  cutByReload(durable) {
    for (const row of this.rows.values()) {
      if (row.state !== 'flying' && row.state !== 'outbox') continue;
      const last = row.marks.at(-1);
      if (last?.t === 'attempt' && last.o === 'sent') last.o = 'lost';
      // durafetch stores an operation before its first attempt is sent.
      const stored = row.state === 'outbox' || row.marks.some((m) => m.t === 'attempt');
      row.marks.push({ t: 'reload' });
      row.state = durable && stored ? 'outbox' : 'lost';
    }
  }

  /**
   * An order cut by a reload that is no longer in the outbox was answered
   * (durafetch deletes a record only on a definitive answer) in the instant
   * the old page was unloading: after the record was deleted, before its
   * 'settled' event could run. Nobody saw the answer; the server did place it.
   */
  reconcile(pendingKeys) {
    for (const row of this.rows.values()) {
      if (row.state === 'outbox' && row.key && !pendingKeys.has(row.key) && row.marks.at(-1)?.t === 'reload') row.state = 'unseen';
    }
  }

  count(state) {
    let n = 0;
    for (const row of this.rows.values()) if (row.state === state) n++;
    return n;
  }

  get size() { return this.rows.size; }

  clear() {
    this.rows.clear();
    this.byKey.clear();
  }

  toJSON() { return [...this.rows.values()]; }

  #endAttempt(row, outcome, status) {
    const last = [...row.marks].reverse().find((m) => m.t === 'attempt');
    if (!last || last.o !== 'sent') return; // already ended (e.g. by a reload)
    last.o = outcome;
    if (outcome === 'other' || outcome === 'ok') last.status = status;
  }
}
