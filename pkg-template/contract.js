// Written by `cargo test --test contract` from the Rust enums (tests/contract.rs):
// do not edit; `UPDATE_CONTRACT=1 cargo test --test contract` rewrites it.
// The core sends and reads numbers; these are what they mean.

// Inputs (JS -> core) and actions (core -> JS): src/shell/ops.rs.
export const IN_START = 0;
export const IN_CALL = 1;
export const IN_ANSWERED = 2;
export const IN_FAILED = 3;
export const IN_GOT = 4;
export const IN_WROTE = 5;
export const IN_LOCKED = 6;
export const IN_LISTED = 7;
export const IN_QUARANTINED = 8;
export const IN_TIMER = 9;
export const IN_ABORT = 10;
export const IN_PENDING = 11;
export const IN_ONLINE = 12;
export const IN_OFFLINE = 13;
export const IN_RESUME = 14;
export const IN_CLOSE = 15;
export const IN_LISTEN = 16;
export const IN_RESULT = 17;
export const IN_START_RUN = 18;
export const IN_RUN_EVENT = 19;
export const IN_RUN_RESULT = 20;
export const IN_RUNS = 21;
export const IN_RUN_INFO = 22;
export const IN_DRAIN = 23;
export const IN_VISIBLE = 24;
export const IN_SYNC_REGISTERED = 25;
export const IN_HEARD = 26;
export const IN_TRACED = 27;
export const OUT_SEND = 0;
export const OUT_CANCEL = 1;
export const OUT_RESOLVE = 2;
export const OUT_REJECT = 3;
export const OUT_RELEASE = 4;
export const OUT_EMIT = 5;
export const OUT_GET = 6;
export const OUT_PUT = 7;
export const OUT_DELETE = 8;
export const OUT_LIST = 9;
export const OUT_QUARANTINE = 10;
export const OUT_LOCK = 11;
export const OUT_UNLOCK = 12;
export const OUT_PENDING = 13;
export const OUT_CLOSE_STORE = 14;
export const OUT_STARTED = 15;
export const OUT_FLUSH = 16;
export const OUT_STOP_RUNS = 17;
export const OUT_KEEP = 18;
export const OUT_KEPT = 19;
export const OUT_TIMER = 20;
export const OUT_RESUMED = 21;
export const OUT_PUT_RUN = 22;
export const OUT_EXECUTE = 23;
export const OUT_STEP_GO = 24;
export const OUT_STEP_COMMITTED = 25;
export const OUT_STEP_FAILED = 26;
export const OUT_UNDO = 27;
export const OUT_RUN_STARTED = 28;
export const OUT_RUN_ENDED = 29;
export const OUT_RUNS = 30;
export const OUT_INFO = 31;
export const OUT_DRAINED = 32;
export const OUT_REGISTER_SYNC = 33;
export const OUT_ANNOUNCE = 34;
export const RUN_EVENT_STEP_REACHED = 0;
export const RUN_EVENT_STEP_DONE = 1;
export const RUN_EVENT_STEP_THREW = 2;
export const RUN_EVENT_FAILED = 3;
export const RUN_EVENT_UNDO_DONE = 4;
export const RUN_EVENT_RETURNED = 5;
export const EVENT_ATTEMPT = 0;
export const EVENT_RETRY = 1;
export const EVENT_GIVEUP = 2;
export const EVENT_BREAKER = 3;
export const EVENT_SETTLED = 4;
export const EVENT_QUEUED = 5;
export const EVENT_STORE = 6;
export const EVENT_WORKFLOW = 7;

// Names, by their number.
export const ERROR_KINDS = ['invalid-option', 'key-reuse', 'not-replayable', 'invalid-request', 'aborted', 'circuit-open', 'exhausted', 'deadline', 'closed', 'unsupported-runtime', 'queued', 'storage', 'before-replay', 'workflow-failed', 'workflow-mismatch', 'step-status'];
export const GIVE_UP_REASONS = ['exhausted', 'deadline', 'aborted', 'closed', 'circuit-open', 'expired', 'budget'];
export const QUEUE_REASONS = ['exhausted', 'deadline', 'circuit-open', 'closed', 'in-flight-elsewhere', 'offline', 'budget'];
export const EVENT_TYPES = ['attempt', 'retry', 'giveup', 'breaker', 'settled', 'queued', 'store', 'workflow'];
export const RETRY_REASONS = ['network', 'timeout', 'status'];
export const BREAKER_STATES = ['open', 'half-open', 'closed'];
export const STORE_ACTIONS = ['get', 'put', 'delete', 'list', 'quarantine', 'open'];
export const WORKFLOW_STATES = ['started', 'step-started', 'step-completed', 'completed', 'failed', 'compensated'];
export const RUN_STATES = ['running', 'completed', 'failed'];
export const FIELDS = ['key', 'method', 'url', 'headers', 'body', 'fingerprint', 'attempts', 'times', 'id', 'name', 'nonce', 'state', 'steps', 'status', 'trace'];

// Words, by their number.
export const EXPECTED = ['an object', 'an integer from 1 to 1000', 'an integer number of milliseconds from 0 to 2147483647', 'an integer number of milliseconds from 1 to 2147483647', 'an array of HTTP statuses, integers from 100 to 599', 'a header name such as \'Idempotency-Key\'', 'false, or an object { failureThreshold, cooldownMs }', 'one of: failureThreshold, cooldownMs', '\'auto\', \'memory\', \'indexeddb\', or an object with get, put, delete and list functions', 'an integer number of milliseconds from 1 to 9007199254740991', 'an array of header names', 'an integer from 0 to 9007199254740991', 'an object of workflow functions: { name: async (step, input) => … }', 'a function, under a name of 1 to 100 visible ASCII characters, no \'"\'', 'no workflows here: import { createClient } from \'durafetch/workflows\' for a client that runs them', 'a function', 'a known option: maxAttempts, baseDelayMs, maxDelayMs, deadlineMs, attemptTimeoutMs, retryOn, idempotencyHeader, breaker, retryBudget, store, ttlMs, redactHeaders, seed, fetch, beforeReplay, backgroundSync, tracer, traceContext, workflows', '1 to 255 visible ASCII characters, no \'"\'', 'a boolean', '1 to 200 visible ASCII characters, no \'"\'', '1 to 100 visible ASCII characters, no \'"\'', 'the name of a workflow given to createClient', 'false, or an object { capacity, retryCost, timeoutCost, refillPerSecond }', 'one of: capacity, retryCost, timeoutCost, refillPerSecond', 'an integer from 1 to 1000000', 'an integer from 1 to the budget\'s capacity', 'an OpenTelemetry Tracer (an object with a startSpan method), e.g. trace.getTracer(\'app\')'];
export const CAUSE_TEXTS = ['the stored record for this key is unreadable', 'the run could not be stored', 'the stored run is unreadable', 'no run with this id is stored: it never started, or ended longer than ttlMs ago'];
