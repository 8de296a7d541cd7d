// What the tabs and workers sharing an IndexedDB store tell each other: an
// operation settled in the background (its 'settled' listeners and
// result(key) callers elsewhere learn it too), a run's journal changed
// (whoever waits for its result reads it again at once), and what each
// engine learned of an origin's breaker and retry budget (`{ fleet: bytes }`,
// src/core/engine/fleet.rs: one breaker and one budget per origin).

export function openChannel(receive) {
  if (typeof globalThis.BroadcastChannel !== 'function') return null;
  try {
    const channel = new BroadcastChannel('durafetch');
    channel.onmessage = (event) => receive(event.data);
    return channel;
  } catch {
    return null;
  }
}
