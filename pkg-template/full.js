// The full module's JS (the lean one, plus workflows): `make pkg` bundles it,
// minified, as pkg/workflows/durafetch.js beside durafetch-workflows.wasm.
export { init, initSync, memoryBytes } from './core.js';
export { makeCreateClient, DurafetchError } from './client.js';
export { WorkflowClient as Client } from './workflow-client.js';
