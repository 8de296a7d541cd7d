// Bytes one layer of this package already holds, handed to the next without
// reading a stream twice: toNodeListener builds a Request from the body it
// buffered, and idempotent() answers with a Response whose body it buffered.
// Keyed by the object itself (WeakMap), so nothing leaks and a Request or
// Response from anywhere else simply takes the general path.
const bodies = new WeakMap();

/** Records that `message` (a Request or Response) carries exactly `bytes`, unread. */
export function handOff(message, bytes) {
  bodies.set(message, bytes);
  return message;
}

/**
 * The bytes recorded for `message`. Not checked against `bodyUsed` (which
 * costs more than the rest of the lookup): a layer in between that read the
 * body leaves the handler nothing to read either, and it fails there.
 */
export function handedOff(message) {
  return bodies.get(message);
}
