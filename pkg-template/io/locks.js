// Locks that keep one operation from being sent twice at once.
//
// Within one JS realm (one wasm instance, every client in it) a set of held
// names. Across the tabs and workers of an origin, which share one IndexedDB
// outbox, the Web Locks API (navigator.locks): a lock is released when its
// holder releases it or its context dies, so a crashed tab never leaves one
// behind. Where navigator.locks does not exist (Node, Deno, workerd) only the
// realm's set applies: processes sharing an adapter store must serialise
// themselves.

const held = new Set();
/** name -> resolvers waiting for it in this realm (wait: true). */
const waiting = new Map();
/** name -> the function that ends our Web Lock. */
const releases = new Map();

function leaveRealm(name) {
  const next = waiting.get(name)?.shift();
  if (next) return next(); // stays held, by the next in line
  waiting.delete(name);
  held.delete(name);
}

function webLock(name, wait) {
  const locks = globalThis.navigator?.locks;
  if (typeof locks?.request !== 'function') return Promise.resolve(true);
  return new Promise((resolve) => {
    const granted = (lock) => {
      if (!lock) {
        leaveRealm(name);
        resolve(false);
        return undefined;
      }
      resolve(true);
      return new Promise((release) => releases.set(name, release));
    };
    try {
      // Refused (an opaque origin): this realm's set is all there is.
      locks.request(name, { ifAvailable: !wait }, granted).catch(() => resolve(true));
    } catch {
      resolve(true);
    }
  });
}

/** Takes `name`, or answers false at once if someone holds it; with `wait`,
 *  waits for it instead. */
export function acquire(name, wait) {
  if (held.has(name)) {
    if (!wait) return Promise.resolve(false);
    return new Promise((resolve) => {
      let queue = waiting.get(name);
      if (!queue) waiting.set(name, (queue = []));
      queue.push(resolve);
    }).then(() => webLock(name, wait));
  }
  held.add(name);
  return webLock(name, wait);
}

export function release(name) {
  const web = releases.get(name);
  releases.delete(name);
  web?.();
  leaveRealm(name);
}
