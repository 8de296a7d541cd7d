// The outbox in IndexedDB. A write counts as done when its transaction
// completes, not when its request succeeds: only then is it committed.
//
// Version 1 has two object stores: `outbox` (records by `key`) and
// `quarantine` (values we could not read, kept, never resent). A later
// version adds its migration in onupgradeneeded under `if (old < N)`.

import { DELETE_DELAY_MS } from './policy.js';

const VERSION = 1;
const OUTBOX = 'outbox';
const QUARANTINE = 'quarantine';

function requested(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export function openIdb(name = 'durafetch', durability) {
  return new Promise((resolve, reject) => {
    const open = globalThis.indexedDB.open(name, VERSION);
    open.onupgradeneeded = (event) => {
      const db = open.result;
      if (event.oldVersion < 1) {
        db.createObjectStore(OUTBOX, { keyPath: 'key' });
        db.createObjectStore(QUARANTINE, { autoIncrement: true });
      }
    };
    // Another tab holding an older version open blocks the upgrade: say so
    // instead of hanging.
    open.onblocked = () => reject(new Error('the database upgrade is blocked by another tab with an older version open: close it'));
    open.onsuccess = () => resolve(idbStore(open.result, durability));
    open.onerror = () => reject(open.error ?? new Error('IndexedDB could not be opened'));
  });
}

/**
 * Group commit. IndexedDB runs readwrite transactions on one store one at a
 * time, so each write waits for the one before it anyway: writes made while
 * a transaction commits are queued and go together in the next one, and a
 * write made when none is committing goes at the end of the current task's
 * microtasks (with any others of that task). Each write resolves when its
 * transaction completes: a record is committed before its first attempt.
 * A delete (of an operation already reported) waits up to
 * `DELETE_DELAY_MS` for other writes to ride with.
 *
 * `durability` is IndexedDB's hint: 'default' (relaxed in Chromium 121+,
 * Firefox and Safari: handed to the OS, which survives a tab or browser
 * crash but not a power cut), 'relaxed', or 'strict' (flushed to disk).
 */
export function idbStore(db, durability = 'default') {
  let queued = [];
  let committing = false;
  let scheduled = false;
  let timer;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    scheduled = false;
    if (committing || queued.length === 0) return;
    const batch = queued;
    queued = [];
    committing = true;
    let settled;
    try {
      const t = db.transaction([OUTBOX], 'readwrite', { durability });
      const store = t.objectStore(OUTBOX);
      for (const w of batch) w.op === 'put' ? store.put(w.arg) : store.delete(w.arg);
      settled = committed(t);
    } catch (error) {
      settled = Promise.reject(error);
    }
    settled.then(() => batch.forEach((w) => w.resolve()), (error) => batch.forEach((w) => w.reject(error))).finally(() => {
      committing = false;
      if (queued.some((w) => w.op === 'put')) flush();
      else if (queued.length) timer ??= setTimeout(flush, DELETE_DELAY_MS);
    });
  };
  const write = (op, arg) => new Promise((resolve, reject) => {
    queued.push({ op, arg, resolve, reject });
    if (committing) return; // the next transaction takes it
    if (op === 'put') {
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    } else {
      timer ??= setTimeout(flush, DELETE_DELAY_MS);
    }
  });
  const read = (request) => requested(request);
  return {
    get(key) {
      return read(db.transaction([OUTBOX], 'readonly').objectStore(OUTBOX).get(key));
    },
    put(record) {
      return write('put', record);
    },
    delete(key) {
      return write('delete', key);
    },
    list() {
      return read(db.transaction([OUTBOX], 'readonly').objectStore(OUTBOX).getAll());
    },
    /** Moves an unreadable value aside in one transaction: never both, never neither. */
    async quarantine(value, reason) {
      const t = db.transaction([OUTBOX, QUARANTINE], 'readwrite');
      t.objectStore(QUARANTINE).add({ key: value?.key, value, reason, at: Date.now() });
      t.objectStore(OUTBOX).delete(value?.key);
      await committed(t);
      return true;
    },
    /** Sends queued writes now (the page is going away, or the client closes). */
    flush() {
      if (!committing) flush();
    },
    close() {
      flush();
      db.close();
    },
  };
}
