// Types for durafetch: fetch that retries safely, with one idempotency key per
// operation, full-jitter backoff, a circuit breaker and a durable outbox.
// One declaration file serves every entry (browser.js, node.js, workerd.js);
// `durafetch/workflows` adds workflow runs (workflows/index.d.ts).

/** Loads the wasm core once, validates `options` and returns a client. */
export function createClient(options?: DurafetchOptions): Promise<DurafetchClient>;

/**
 * In a service worker (call it at the top level of the worker script): drains
 * the outbox on each 'sync' and 'periodicsync' event tagged 'durafetch' inside
 * `event.waitUntil`, failing the wait while operations remain so the browser
 * fires the event again, and resolving it on `event.lastChance` (they stay
 * stored for the next page or sync); and drains once as the worker starts.
 * A client, made from `options` as createClient's (`beforeReplay` puts back
 * redacted headers; `backgroundSync` is always false in it), lives only while
 * a drain runs. Elsewhere it throws DurafetchError kind 'unsupported-runtime'.
 */
export function handleBackgroundSync(options?: DurafetchOptions): BackgroundSync;

/** What handleBackgroundSync() set up. */
export interface BackgroundSync {
  /** The drain made as the worker started. */
  readonly started: Promise<DrainResult>;
  /** Listens to the events of every client it makes; returns the function that unsubscribes. */
  on<T extends DurafetchEventType>(type: T, listener: (event: DurafetchEvents[T]) => void): () => void;
}

/** The fetch function durafetch calls for each attempt: a Request and an init. */
export type FetchFunction = (input: Request, init: RequestInit) => Promise<Response>;

export interface BreakerOptions {
  /** Consecutive failed attempts to one origin that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long an open breaker fails fast before letting one probe through. @default 30000 */
  cooldownMs?: number;
}

/**
 * A retry budget per origin: a token bucket every retry pays from (a first
 * attempt never pays and is never refused). The defaults are AWS SDKs'
 * standard retry mode: 500 tokens, a retry 5, a retry after a timeout or a
 * network error 10, a retry that succeeds pays its cost back and a first
 * attempt that succeeds adds 1; plus a refill with time, so an operation
 * queued in the outbox is resent even while nothing succeeds.
 */
export interface RetryBudgetOptions {
  /** Tokens the bucket holds (1 to 1000000). @default 500 */
  capacity?: number;
  /** What a retry after an answer (a 503, a 429) costs (at most `capacity`). @default 5 */
  retryCost?: number;
  /** What a retry after a timeout or a network error costs (at most `capacity`). @default 10 */
  timeoutCost?: number;
  /** Tokens added per second (1 to 1000000). @default 1 */
  refillPerSecond?: number;
}

/**
 * The part of an OpenTelemetry `Tracer` durafetch calls (what
 * `trace.getTracer(name)` of `@opentelemetry/api` returns): structurally
 * typed, so durafetch needs no `@opentelemetry/*` package.
 */
export interface OpenTelemetryTracer {
  startSpan(name: string, options?: {
    kind?: number;
    attributes?: Record<string, string | number | boolean>;
    links?: { context: { traceId: string; spanId: string; traceFlags: number; isRemote?: boolean } }[];
    root?: boolean;
  }, context?: unknown): {
    spanContext(): { traceId: string; spanId: string; traceFlags: number; traceState?: { serialize(): string } };
    setAttribute(key: string, value: string | number | boolean): unknown;
    setStatus(status: { code: number; message?: string }): unknown;
    end(): void;
  };
}

/**
 * One stored value, as the outbox keeps it and a store adapter receives it:
 * the key (index it) and the core's bytes (an operation's method, URL,
 * headers, body and schedule; never a header named in `redactHeaders`, nor
 * authorization, cookie or proxy-authorization). Store it as it is: a kept
 * answer or a workflow run carries more fields beside `data`.
 */
export interface DurafetchRecord {
  key: string;
  data: Uint8Array;
  [field: string]: unknown;
}

/** Your own storage for the outbox; every method may be async. */
export interface DurafetchStore {
  get(key: string): Promise<DurafetchRecord | undefined | null> | DurafetchRecord | undefined | null;
  put(record: DurafetchRecord): Promise<void> | void;
  delete(key: string): Promise<void> | void;
  list(): Promise<DurafetchRecord[]> | DurafetchRecord[];
}

/** Every option is optional and validated: a bad one throws DurafetchError kind 'invalid-option'. */
export interface DurafetchOptions {
  /** Attempts per operation, the first one included (1 to 1000). @default 5 */
  maxAttempts?: number;
  /** Backoff base: the wait before retry n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^n)]. @default 100 */
  baseDelayMs?: number;
  /** Cap on one backoff wait. @default 20000 */
  maxDelayMs?: number;
  /** Time budget for a whole operation, all attempts and waits included. @default 30000 */
  deadlineMs?: number;
  /** Time budget for one attempt, until the response headers arrive. @default 10000 */
  attemptTimeoutMs?: number;
  /** Statuses that are retried (integers 100 to 599). @default [408, 409, 425, 429, 500, 502, 503, 504] */
  retryOn?: readonly number[];
  /** Header that carries the key on unsafe methods. @default 'Idempotency-Key' */
  idempotencyHeader?: string;
  /**
   * One breaker per origin, or `false` for none. In browsers the tabs and
   * workers of an origin share it (and the retry budget): they open
   * together, and one of them sends the probe. @default { failureThreshold: 5, cooldownMs: 30000 }
   */
  breaker?: BreakerOptions | false;
  /**
   * A retry budget per origin (token bucket), or `false` for none: a retry it
   * cannot pay for ends a live call (giveup reason 'budget', kind 'exhausted')
   * or queues a durable one until it can.
   * @default { capacity: 500, retryCost: 5, timeoutCost: 10, refillPerSecond: 1 }
   */
  retryBudget?: RetryBudgetOptions | false;
  /** Where the outbox keeps operations: 'auto' is IndexedDB where it exists, else memory. @default 'auto' */
  store?: 'auto' | 'memory' | 'indexeddb' | DurafetchStore;
  /** How long a stored operation may still be resent (keep it under the server's key retention). @default 86400000 */
  ttlMs?: number;
  /** Header names never written to storage, added to authorization, cookie and proxy-authorization. */
  redactHeaders?: readonly string[];
  /** Makes the backoff jitter deterministic (an integer from 0 to 2^53 - 1). */
  seed?: number;
  /** Used instead of globalThis.fetch for every attempt. */
  fetch?: FetchFunction;
  /**
   * Called before a stored operation is resent, with the Request rebuilt from
   * storage (redacted headers are missing): return a Request to send instead,
   * or nothing to send it as is. The idempotency key is set after it.
   */
  beforeReplay?: (request: Request) => Request | void | undefined | Promise<Request | void | undefined>;
  /**
   * An OpenTelemetry Tracer: one span of kind CLIENT per attempt sent, with
   * the HTTP client attributes, `http.request.resend_count` on resends and a
   * `traceparent` header; a resend by a later page links to the first
   * attempt's span. Without it, no tracing code is loaded.
   */
  tracer?: OpenTelemetryTracer;
  /**
   * The context to parent an attempt's span, read when `fetch` is called,
   * e.g. `() => context.active()` of `@opentelemetry/api`. Default: the
   * OpenTelemetry API's global context manager's active context, if one is registered.
   */
  traceContext?: () => unknown;
  /**
   * When an operation stays stored, register the 'durafetch' Background Sync tag
   * on the origin's service-worker registration (where there is one and the
   * browser has the API), so a worker running handleBackgroundSync() delivers
   * it with no page open. Without it, a page being shown resends what is stored.
   * @default true
   */
  backgroundSync?: boolean;
  /** Workflows need `createClient` from 'durafetch/workflows': this one refuses the option, saying so. */
  workflows?: never;
}

/** A step's Response as it is journaled and replayed: the body JSON-parsed when it is JSON. */
export interface StepResponse<Body = any> {
  status: number;
  headers: Record<string, string>;
  body: Body;
}

export type WorkflowState = 'started' | 'step-started' | 'step-completed' | 'completed' | 'failed' | 'compensated';

/** 'workflow' events come from a client of 'durafetch/workflows' only. */
export interface WorkflowEvent {
  id: string;
  name: string;
  state: WorkflowState;
  /** The step: for the step states, 'compensated', and 'failed' when a step failed. */
  step?: string;
}

/** `fetch`'s init, plus durafetch's per-call extras. */
export interface DurafetchRequestInit extends RequestInit {
  /** The operation's key (1 to 255 visible ASCII characters); unsafe methods get a UUID otherwise. */
  idempotencyKey?: string;
  /** Whether the operation goes to the outbox and survives a reload or restart.
   * @default true for keyed calls when the store is persistent */
  durable?: boolean;
}

export interface AttemptEvent {
  /** `null` for safe methods, which carry no key. */
  key: string | null;
  method: string;
  url: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** true when the outbox resends a stored operation in the background. */
  resumed: boolean;
}

export type RetryReason = 'network' | 'timeout' | 'status';

export interface RetryEvent {
  key: string | null;
  /** The attempt that failed. */
  attempt: number;
  /** The wait before the next attempt. */
  delayMs: number;
  reason: RetryReason;
  /** Present when reason is 'status'. */
  status?: number;
  resumed: boolean;
}

/**
 * 'expired': a stored operation outlived ttlMs and was not resent; 'budget': the
 * origin's retry budget could not pay for another retry.
 */
export type GiveUpReason = 'exhausted' | 'deadline' | 'aborted' | 'closed' | 'circuit-open' | 'expired' | 'budget';

export interface GiveUpEvent {
  key: string | null;
  reason: GiveUpReason;
  attempts: number;
  /** The last response's status, when the last attempt got one. */
  status?: number;
}

export type BreakerState = 'open' | 'half-open' | 'closed';

export interface BreakerEvent {
  /** e.g. 'https://api.example.com' */
  origin: string;
  state: BreakerState;
}

export interface SettledEvent {
  key: string | null;
  status: number;
  attempts: number;
  /** true when a stored operation was settled in the background. */
  resumed: boolean;
  /** The answer to a background resend (nobody else receives it). */
  response?: Response;
}

/**
 * Why a durable call ended 'queued' (its record stays and is resent with its key):
 * its live bounds ran out (`exhausted`, `deadline`), its origin's breaker is open,
 * the client closed, another tab or worker is sending it, the device is offline
 * (stored at once, sent when back online, no attempt spent), or the origin's
 * retry budget cannot pay for a retry yet (resent once it can).
 */
export type QueueReason = 'exhausted' | 'deadline' | 'circuit-open' | 'closed' | 'in-flight-elsewhere' | 'offline' | 'budget';

/** A durable call got no definitive answer: it stays stored and will be resent with its key. */
export interface QueuedEvent {
  key: string;
  reason: QueueReason;
  attempts: number;
  status?: number;
}

export type StoreName = 'memory' | 'indexeddb' | 'adapter';

/** What the outbox's storage did; `type` says which. */
export type StoreEvent =
  /** Which store createClient chose; `note` says why 'auto' fell back to memory. */
  | { type: 'selected'; store: StoreName; persistent: boolean; note?: string }
  /** Storage (or beforeReplay) failed; kinds 'storage' or 'before-replay'. */
  | { type: 'error'; error: DurafetchError }
  /** A stored record could not be read: moved aside (`moved`), never resent. */
  | { type: 'quarantined'; key: string; reason: string; moved: boolean };

export interface DurafetchEvents {
  attempt: AttemptEvent;
  retry: RetryEvent;
  giveup: GiveUpEvent;
  breaker: BreakerEvent;
  settled: SettledEvent;
  queued: QueuedEvent;
  store: StoreEvent;
  workflow: WorkflowEvent;
}

export type DurafetchEventType = keyof DurafetchEvents;

/** What `drain()` did. */
export interface DrainResult {
  /** Operations resent by this client that got their definitive answer since drain() was called. */
  settled: number;
  /** Operations still stored: waiting for a later retry, or being sent by another call or context. */
  remaining: number;
}

/** An operation not yet settled. */
export interface PendingOperation {
  key: string;
  method: string;
  url: string;
  attempts: number;
  /** Epoch milliseconds. */
  createdAt: number;
  /** When a stored operation is next resent (epoch ms); stored operations only. */
  nextAttemptAt?: number;
  /** true for an operation in the outbox, false for a call still running here. */
  durable: boolean;
}

export interface DurafetchClient {
  /** The store the outbox uses. */
  readonly store: StoreName;
  /** Same arguments as fetch; resolves with a real Response, or rejects with a DurafetchError. */
  fetch(input: RequestInfo | URL, init?: DurafetchRequestInit): Promise<Response>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<T extends DurafetchEventType>(type: T, listener: (event: DurafetchEvents[T]) => void): () => void;
  /** Operations not yet settled: stored ones and calls still running here. */
  pending(): Promise<PendingOperation[]>;
  /** Resends now every operation that is waiting to retry; resolves with how many were waiting. */
  resume(): Promise<number>;
  /**
   * Resends every stored operation once, now (under the same lock and per-origin
   * order as the background resends; never before a server's Retry-After, and
   * through the breaker) and resolves once each has settled or waits for a later
   * retry. Never deletes an operation without a definitive answer.
   */
  drain(): Promise<DrainResult>;
  /** No new calls; calls waiting to retry end with kind 'closed'; stored operations stay stored. */
  close(): Promise<void>;
  /**
   * The Response of keyed operation `key` once it settles, even one that settled
   * in the background or in another tab (kept until read once, up to ttlMs);
   * null if the store knows no such operation.
   */
  result(key: string): Promise<Response | null>;
}

/** The storage call that failed, in 'storage' errors ('open': the store could not be opened). */
export type StoreAction = 'get' | 'put' | 'delete' | 'list' | 'quarantine' | 'open';

export type DurafetchErrorKind =
  | 'invalid-option'
  | 'key-reuse'
  | 'not-replayable'
  | 'invalid-request'
  | 'aborted'
  | 'circuit-open'
  | 'exhausted'
  | 'deadline'
  | 'closed'
  | 'unsupported-runtime'
  | 'queued'
  | 'storage'
  | 'before-replay'
  | 'workflow-failed'
  | 'workflow-mismatch'
  | 'step-status';

/** One error class for everything durafetch refuses or gives up on; `kind` says which. */
export class DurafetchError extends Error {
  name: 'DurafetchError';
  kind: DurafetchErrorKind;
  /** The operation's idempotency key, when it has one. */
  key: string | null;
  /** Attempts made before this error. */
  attempts: number;
  /** The last underlying failure (a fetch TypeError, an AbortSignal's reason, …). */
  cause?: unknown;
  /** 'invalid-option': the option's path, what it accepts and what it got. */
  option?: string;
  expected?: string;
  value?: unknown;
  /** 'circuit-open': the origin and when the next probe is allowed. */
  origin?: string;
  retryAfterMs?: number;
  /** 'aborted', 'exhausted', 'deadline', 'queued': the request that failed. */
  method?: string;
  url?: string;
  /** 'queued': why it is queued, and the last attempt's status if it got one.
   *  'exhausted' with reason 'budget': the origin's retry budget stopped the retries. */
  reason?: QueueReason;
  status?: number;
  /** 'storage': the storage call that failed. */
  action?: StoreAction;
  /** 'storage': false when the operation could not be persisted, so nothing was sent. */
  sent?: boolean;
  /** 'unsupported-runtime': what the runtime refused (e.g. crypto.getRandomValues). */
  missing?: string;
  /** 'workflow-failed', 'workflow-mismatch', 'step-status': the step (none when the workflow's own code threw). */
  step?: string;
  /** 'workflow-mismatch': the step's place in the run. */
  index?: number;
  /** 'workflow-failed': the completed steps compensated, last first. */
  compensated?: string[];
  /** 'queued' from a sync event's drain: operations settled, and those still stored. */
  settled?: number;
  remaining?: number;
  /** 'step-status': the step's Response, journaled. */
  response?: StepResponse;
  /** Works across realms (iframes, workers), unlike instanceof. */
  static is(value: unknown): value is DurafetchError;
}
