// Where pending operations live: memory, IndexedDB, or the caller's adapter.
// All hold the same plain records (built by the core), so every record that
// comes back goes through the same validation, whatever stored it. Every
// method returns a promise.
import { DurafetchError } from '../errors.js';
import { openIdb } from './idb.js';

function memoryStore() {
  const records = new Map();
  return {
    get: async (key) => records.get(key),
    put: async (record) => void records.set(record.key, record),
    delete: async (key) => void records.delete(key),
    list: async () => [...records.values()],
    quarantine: async () => false,
    close() {},
  };
}

/** The caller's `{ get, put, delete, list }` (sync or async; methods may
 *  live on a prototype). Unreadable records stay where they are. */
function adapterStore(adapter) {
  const call = (method, ...args) => {
    try {
      return Promise.resolve(adapter[method](...args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return {
    get: (key) => call('get', key),
    put: (record) => call('put', record).then(() => undefined),
    delete: (key) => call('delete', key).then(() => undefined),
    list: () => call('list').then((all) => {
      if (!Array.isArray(all)) throw new TypeError('list() must return an array of records');
      return all;
    }),
    quarantine: async () => false,
    close() {},
  };
}

/** Opens the store the options chose. 'auto' is IndexedDB where it exists
 *  and opens, else memory (`note` says why). */
export async function openStore(choice, adapter) {
  if (choice === 'memory') return { store: memoryStore(), name: 'memory', persistent: false };
  if (choice === 'adapter') return { store: adapterStore(adapter), name: 'adapter', persistent: true };
  if (choice === 'indexeddb' && !globalThis.indexedDB) {
    throw new DurafetchError('storage', { action: 'open', cause: new Error('indexedDB is not available here') });
  }
  if (globalThis.indexedDB) {
    try {
      return { store: await openIdb(), name: 'indexeddb', persistent: true };
    } catch (cause) {
      if (choice === 'indexeddb') throw new DurafetchError('storage', { action: 'open', cause });
      return { store: memoryStore(), name: 'memory', persistent: false, note: `IndexedDB could not be opened: ${cause?.message ?? cause}` };
    }
  }
  return { store: memoryStore(), name: 'memory', persistent: false, note: 'indexedDB is not available in this runtime' };
}
