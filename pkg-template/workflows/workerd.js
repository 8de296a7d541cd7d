// Cloudflare workerd: it forbids compiling wasm from bytes at run time, so the
// module is imported as a compiled WebAssembly.Module and instantiated on the
// first createClient (never at top level: workerd refuses I/O there).
import wasmModule from './durafetch-workflows.wasm';
import { Client, initSync, makeCreateClient } from './durafetch.js';

export { DurafetchError } from './durafetch.js';

export const createClient = makeCreateClient(() => initSync(wasmModule), Client, () => import('../tracing.js'));
