// Node 20+ (ESM). Node's fetch cannot read file: URLs, so the .wasm is read from disk.
import { readFileSync } from 'node:fs';
import { initSync } from './core.js';
import { makeCreateClient } from './client.js';

export { DurafetchError } from './client.js';

let loaded = false;
export const createClient = makeCreateClient(() => {
  if (!loaded) {
    initSync({ module: readFileSync(new URL('./core_bg.wasm', import.meta.url)) });
    loaded = true;
  }
});
