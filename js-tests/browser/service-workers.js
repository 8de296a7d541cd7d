// The browser's service workers through the DevTools protocol, from an
// about:blank page's session (the browser-level session has no ServiceWorker
// domain): their registrations, sync events dispatched as the browser would,
// and stopping every worker as the browser does when idle.
import { until } from '../scripted-server.js';

export async function serviceWorkers(context) {
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const registrations = new Map(); // registrationId -> scopeURL
  const running = new Map(); // versionId -> runningStatus
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
    for (const r of updated) {
      if (r.isDeleted) registrations.delete(r.registrationId);
      else registrations.set(r.registrationId, r.scopeURL);
    }
  });
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) running.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');

  const registrationOf = async (origin) => {
    let id;
    await until(() => {
      id = [...registrations].find(([, scope]) => scope.startsWith(`${origin}/`))?.[0];
      return id !== undefined;
    }, 10_000, `a service-worker registration for ${origin}`);
    return id;
  };

  return {
    /** Fires a 'sync' event tagged 'durafetch' in `origin`'s worker (it answers at once, whatever the wait does). */
    async dispatchSync(origin, { lastChance = false } = {}) {
      const registrationId = await registrationOf(origin);
      await cdp.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId, tag: 'durafetch', lastChance });
    },
    /** Stops every worker; the next event starts it afresh. */
    async stopAll() {
      await cdp.send('ServiceWorker.stopAllWorkers');
      await until(() => running.size > 0 && [...running.values()].every((s) => s === 'stopped'), 10_000, 'every worker stopped');
    },
    async close() {
      await cdp.detach().catch(() => {});
      await blank.close();
    },
  };
}
