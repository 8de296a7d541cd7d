// Node 20+ (ESM). Node's fetch cannot read file: URLs, so the .wasm is read from disk.
import { readFileSync } from 'node:fs';
import { Client, initSync, makeCreateClient } from './durafetch.js';

export { DurafetchError } from './durafetch.js';

let loaded = false;
export const createClient = makeCreateClient(() => {
  if (!loaded) initSync(readFileSync(new URL('./durafetch-workflows.wasm', import.meta.url)));
  loaded = true;
}, Client, () => import('../tracing.js'));
