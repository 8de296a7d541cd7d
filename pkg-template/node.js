// Node 20+ (ESM). Node's fetch cannot read file: URLs, so the .wasm is read from disk.
import { readFileSync } from 'node:fs';
import { handle } from './background-sync.js';
import { Client, DurafetchError, initSync, makeCreateClient } from './durafetch.js';

export { DurafetchError };

let loaded = false;
export const createClient = makeCreateClient(() => {
  if (!loaded) initSync(readFileSync(new URL('./durafetch.wasm', import.meta.url)));
  loaded = true;
}, Client, () => import('./tracing.js'));

/** In a service worker: drains the outbox on 'durafetch' sync events and at start. */
export function handleBackgroundSync(options) {
  return handle({ createClient, DurafetchError }, options);
}
