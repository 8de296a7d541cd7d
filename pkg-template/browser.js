// Browsers, workers and Deno: the .wasm is fetched beside this file. Bundlers
// that understand `new URL(..., import.meta.url)` (Vite, webpack 5) emit it as
// an asset; with esbuild, copy durafetch.wasm next to the bundle. The same goes
// for tracing.js, fetched only by a client given a `tracer` (`?no-inline`: Vite
// would otherwise inline so small a file into every page as a data URL).
import { handle } from './background-sync.js';
import { Client, DurafetchError, init, makeCreateClient } from './durafetch.js';

export { DurafetchError };

let ready;
export const createClient = makeCreateClient(() => {
  ready ??= init(new URL('./durafetch.wasm', import.meta.url)).catch((error) => {
    ready = undefined; // let a later call try again (e.g. after going back online)
    throw error;
  });
  return ready;
}, Client, () => import(/* @vite-ignore */ new URL('./tracing.js?no-inline', import.meta.url).href));

/** In a service worker: drains the outbox on 'durafetch' sync events and at start. */
export function handleBackgroundSync(options) {
  return handle({ createClient, DurafetchError }, options);
}
