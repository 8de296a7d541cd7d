// The lean module's JS (calls, the outbox, the breaker, resends, result(key)):
// `make pkg` bundles it, minified, as pkg/durafetch.js beside durafetch.wasm.
export { init, initSync, memoryBytes } from './core.js';
export { DurafetchClient as Client, makeCreateClient, DurafetchError } from './client.js';
