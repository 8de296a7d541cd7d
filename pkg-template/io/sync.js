// The Background Sync tag: registered on the origin's service-worker
// registration (the worker's own, inside a service worker) when the engine
// asks, so the browser fires a 'sync' event there once the network is back,
// every page closed or not. The engine hears whether it took.

/** The tag the service worker's handleBackgroundSync listens for. */
export const SYNC_TAG = 'durafetch';

/** Whether this platform has the Background Sync API at all. */
export const hasSyncApi = () => typeof globalThis.SyncManager === 'function';

/** Registers the tag; false where there is no registration, API or permission. */
export async function registerSync() {
  try {
    const worker = typeof globalThis.ServiceWorkerGlobalScope === 'function' && globalThis instanceof globalThis.ServiceWorkerGlobalScope;
    const registration = worker ? globalThis.registration : await globalThis.navigator?.serviceWorker?.getRegistration();
    if (!registration?.sync) return false;
    await registration.sync.register(SYNC_TAG);
    return true;
  } catch {
    return false;
  }
}
