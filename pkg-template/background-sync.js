// Background Sync in a service worker: handleBackgroundSync(options). Its own
// module, reached only through the entries' handleBackgroundSync: an app
// that does not call it does not bundle it (esbuild drops the unused export
// and this side-effect-free file with it). It imports nothing: each entry
// (lean or workflows) hands it its own createClient and error class.

/** The sync tag pages register (io/sync.js says the same). */
const SYNC_TAG = 'durafetch';

/**
 * Drains the outbox on every 'sync' and 'periodicsync' event tagged
 * 'durafetch' (inside `event.waitUntil`, failing it while operations remain
 * so the browser fires it again, resolving on `event.lastChance`), and once
 * now, as the worker starts.
 *
 * A client lives only while a drain runs: the browser may stop the worker
 * whenever no event is being handled, so nothing here waits on a timer
 * between events (the pages' own clients do that).
 */
export function handle({ createClient, DurafetchError }, options) {
  const scope = globalThis;
  if (typeof scope.ServiceWorkerGlobalScope !== 'function' || !(scope instanceof scope.ServiceWorkerGlobalScope)) {
    throw new DurafetchError('unsupported-runtime', {
      missing: 'handleBackgroundSync(), which runs in a service worker (call it at the top level of the worker script)',
    });
  }
  const listeners = [];
  let client = null;
  let draining = 0;
  // The events are the browser's to retry: this client registers no tag itself.
  const made = () => createClient({ ...options, backgroundSync: false }).then((c) => {
    for (const [type, listener] of listeners) c.on(type, listener);
    return c;
  });
  /** `why`: 0 the worker's start, 1 a sync event, 2 one on its last chance. */
  const drain = async (why) => {
    draining++;
    try {
      return await (await (client ??= made()))._drain(why);
    } finally {
      if (--draining === 0) {
        const done = client;
        client = null;
        done.then((c) => c.close(), () => {});
      }
    }
  };
  const synced = async (lastChance) => {
    const { settled, remaining, retry } = await drain(lastChance ? 2 : 1);
    if (!retry) return;
    // Its words live here: a page that does not sync does not ship them.
    const error = new DurafetchError('queued', { settled, remaining });
    error.message = `${remaining} stored operation(s) have no definitive answer yet (${settled} settled in this ` +
      'sync): they stay in the outbox, and the browser fires the sync event again';
    throw error;
  };
  const onSync = (event) => {
    if (event.tag === SYNC_TAG) event.waitUntil(synced(event.lastChance === true));
  };
  // Listeners must be added while the worker's script first runs.
  scope.addEventListener('sync', onSync);
  scope.addEventListener('periodicsync', onSync);
  // As the worker starts: what pages left (Safari and Firefox fire no sync event).
  const started = drain(0).then(({ settled, remaining }) => ({ settled, remaining }));
  started.catch(() => {});
  return {
    /** The start's drain: `{ settled, remaining }`. */
    started,
    /** Listens to the events of every client this makes; returns the function that stops. */
    on(type, listener) {
      const entry = [type, listener];
      listeners.push(entry);
      client?.then((c) => c.on(type, listener), () => {});
      return () => listeners.splice(listeners.indexOf(entry) >>> 0, 1);
    },
  };
}
