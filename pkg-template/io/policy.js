// The host's own choices: how it spends memory and batches writes. They
// change performance, never what happens (the engine decides that), and the
// simulation's host does the same (tests/sim/store.rs, tests/sim/host.rs).

/** Kept answers read for result(key) held in memory at most, the latest. */
export const KEPT_HELD = 64;

/** How long a delete (of an operation already reported) waits for other
 *  writes to share its IndexedDB transaction. A put never waits. */
export const DELETE_DELAY_MS = 8;
