// The host's own choices: how it batches writes. They
// change performance, never what happens (the engine decides that), and the
// simulation's host does the same (tests/sim/store.rs, tests/sim/host.rs).

/** How long a delete (of an operation already reported) waits for other
 *  writes to share its IndexedDB transaction. A put never waits. */
export const DELETE_DELAY_MS = 8;
