// durafetch/server in Node 20+: the .wasm is read from disk and
// instantiated before anything is exported, so idempotent() is synchronous.
import { readFileSync } from 'node:fs';
import { initSync } from './server.js';

initSync({ module: readFileSync(new URL('./server_bg.wasm', import.meta.url)) });

export * from './api.js';
