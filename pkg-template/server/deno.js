// durafetch/server in Deno: the .wasm is read from disk (needs read
// permission for it) before anything is exported.
import { initSync } from './server.js';

initSync({ module: await Deno.readFile(new URL('./server_bg.wasm', import.meta.url)) });

export * from './api.js';
