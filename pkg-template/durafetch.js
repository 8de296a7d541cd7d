// Everything the entries share: the wasm-bindgen glue (core.js, generated),
// the client and its I/O layer. `make pkg` ships it as one minified module
// (with its source map): one request and a third of the bytes.
export { default as init, initSync } from './core.js';
export { makeCreateClient, DurafetchError } from './client.js';
