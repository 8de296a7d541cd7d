// The channel of the tabs and workers sharing an IndexedDB store: each
// engine's notes, as bytes (src/core/engine/notes.rs: an answer kept, a
// journal written, what each origin's breaker and retry budget learned).
// The host posts them and hands what it hears to its engine.

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
