// durafetch's events drawn on its lane. Events carry the operation's key;
// the first attempt (which also carries the URL, see orderUrl) binds the key
// to its row, including resends of orders placed before a reload. Orders of
// other tabs (the outbox is shared) are resent here too, but not drawn.
import { orderRef } from './orders.js';

/** Subscribes `lane` to `client`; `onBreaker(origin, state)` gets breaker changes. */
export function followClient(client, lane, { tab, onBreaker, onChange }) {
  const row = (e) => {
    const ref = e.url ? orderRef(e.url) : undefined;
    return lane.forKey(e.key, ref?.tab === tab ? ref.n : undefined);
  };
  const handlers = {
    attempt: (e) => { const r = row(e); if (r) lane.attempt(r, e); },
    retry: (e) => { const r = row(e); if (r) lane.retry(r, e); },
    settled: (e) => {
      const r = row(e);
      if (r) lane.settled(r, e);
      e.response?.body?.cancel(); // a resend's answer: only its status matters here
    },
    queued: (e) => { const r = row(e); if (r) lane.queued(r, e); },
    giveup: (e) => { const r = row(e); if (r) lane.failed(r, e); },
    breaker: (e) => onBreaker(e.origin, e.state),
  };
  for (const [type, handle] of Object.entries(handlers)) {
    client.on(type, (e) => { handle(e); onChange(); });
  }
}
