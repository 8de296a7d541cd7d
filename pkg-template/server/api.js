// Everything durafetch/server exports; each runtime's entry loads the wasm
// core first, then re-exports this.
export { idempotent } from './idempotent.js';
export { toNodeListener } from './node-listener.js';
export { expressIdempotency } from './express.js';
export { IdempotencyError } from './errors.js';
export { memoryStore } from './stores/memory.js';
export { redisStore } from './stores/redis.js';
export { postgresStore } from './stores/postgres.js';
export { durableObjectStore } from './stores/durable-object.js';
export { denoKvStore } from './stores/deno-kv.js';
