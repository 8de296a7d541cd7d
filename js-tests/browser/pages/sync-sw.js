// The service worker of the Background Sync tests: what a user's worker is
// (handleBackgroundSync with a beforeReplay that puts Authorization back),
// plus a report of each sync event's outcome to the test server (POST
// /sw-log): dispatchSyncEvent answers at once whatever the wait does, so the
// worker says itself whether its wait resolved or rejected.
import { handleBackgroundSync } from '/pkg/browser.js';

const instance = crypto.randomUUID();
const log = (entry) => fetch('/sw-log', { method: 'POST', body: JSON.stringify({ instance, ...entry }) }).catch(() => {});

// Observes the waits handleBackgroundSync hands the browser, and passes them on as they are.
const waitUntil = ExtendableEvent.prototype.waitUntil;
ExtendableEvent.prototype.waitUntil = function observed(promise) {
  if (this.type !== 'sync') return waitUntil.call(this, promise);
  const lastChance = this.lastChance;
  const reported = Promise.resolve(promise).then(
    (value) => log({ sync: 'resolved', lastChance }).then(() => value),
    (error) => log({ sync: 'rejected', lastChance, kind: error?.kind, remaining: error?.remaining, message: error?.message })
      .then(() => { throw error; }),
  );
  return waitUntil.call(this, reported);
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const sync = handleBackgroundSync({
  // Never its own timer's resend during a test (js-tests/patient.js).
  baseDelayMs: 86_400_000,
  maxDelayMs: 86_400_000,
  seed: 1,
  beforeReplay: (request) => request.headers.set('authorization', 'Bearer from-the-worker'),
});
sync.on('settled', ({ key, status }) => log({ settled: key, status }));
sync.started.then((drained) => log({ started: drained }), (error) => log({ failed: `${error.name}: ${error.message}` }));
