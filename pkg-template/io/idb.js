// The outbox in IndexedDB. A write counts as done when its transaction
// completes, not when its request succeeds: only then is it committed.
//
// Version 1 has two object stores: `outbox` (records by `key`) and
// `quarantine` (values we could not read, kept, never resent). A later
// version adds its migration in onupgradeneeded under `if (old < N)`.

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

export function openIdb(name = 'durafetch') {
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
    open.onsuccess = () => resolve(idbStore(open.result));
    open.onerror = () => reject(open.error ?? new Error('IndexedDB could not be opened'));
  });
}

export function idbStore(db) {
  const tx = (stores, mode) => db.transaction(stores, mode);
  return {
    get(key) {
      return requested(tx([OUTBOX], 'readonly').objectStore(OUTBOX).get(key));
    },
    put(record) {
      const t = tx([OUTBOX], 'readwrite');
      t.objectStore(OUTBOX).put(record);
      return committed(t);
    },
    delete(key) {
      const t = tx([OUTBOX], 'readwrite');
      t.objectStore(OUTBOX).delete(key);
      return committed(t);
    },
    list() {
      return requested(tx([OUTBOX], 'readonly').objectStore(OUTBOX).getAll());
    },
    /** Moves an unreadable value aside in one transaction: never both, never neither. */
    async quarantine(value, reason) {
      const t = tx([OUTBOX, QUARANTINE], 'readwrite');
      t.objectStore(QUARANTINE).add({ key: value?.key, value, reason, at: Date.now() });
      t.objectStore(OUTBOX).delete(value?.key);
      await committed(t);
      return true;
    },
    close() {
      db.close();
    },
  };
}
