// The demo's service worker: delivers what a closed page left in the outbox
// when the browser fires its 'durafetch' sync event (and drains once as it
// starts). Its resends say who sent them, so the server's log can show orders
// placed while no page was open.
import { handleBackgroundSync } from 'durafetch';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

handleBackgroundSync({
  beforeReplay: (request) => request.headers.set('x-delivered-by', 'service-worker'),
});
