// durafetch/server in Cloudflare workerd: the .wasm comes in as a compiled
// WebAssembly.Module (bundle it as wrangler does: `import … from './x.wasm'`);
// instantiating it at top level does no I/O, so workerd allows it.
import wasmModule from './server_bg.wasm';
import { initSync } from './server.js';

initSync({ module: wasmModule });

export * from './api.js';
