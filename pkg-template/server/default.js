// durafetch/server elsewhere (runtimes that fetch their modules): the .wasm is
// fetched beside this file before anything is exported.
import init from './server.js';

await init({ module_or_path: new URL('./server_bg.wasm', import.meta.url) });

export * from './api.js';
