// Cloudflare workerd: it forbids compiling wasm from bytes at run time, so the
// module is imported as a compiled WebAssembly.Module and instantiated on the
// first createClient (never at top level: workerd refuses I/O there).
import wasmModule from './durafetch-workflows.wasm';
import { handle } from '../background-sync.js';
import { Client, DurafetchError, initSync, makeCreateClient } from './durafetch.js';

export { DurafetchError };

export const createClient = makeCreateClient(() => initSync(wasmModule), Client, () => import('../tracing.js'));

/** In a service worker: drains the outbox on 'durafetch' sync events and at start. */
export function handleBackgroundSync(options) {
  return handle({ createClient, DurafetchError }, options);
}
