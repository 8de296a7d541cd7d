// Types for durafetch/server: idempotency keys claimed atomically in a shared
// store, answers stored and replayed. One declaration file for every entry.

/** A fetch handler: Deno.serve, workerd's `fetch`, Hono's app.fetch. */
export type FetchHandler<Rest extends unknown[] = unknown[]> = (request: Request, ...rest: Rest) => Response | Promise<Response>;

export interface IdempotencyOptions<Req = Request> {
  /** Where keys and answers live; share it between processes. @default memoryStore() */
  store?: IdempotencyStore;
  /** The header that carries the key. @default 'Idempotency-Key' */
  header?: string;
  /** Methods whose requests are deduplicated. @default ['POST', 'PATCH', 'PUT', 'DELETE'] */
  methods?: readonly string[];
  /** `true`: a request with one of `methods` and no key gets 400. `false`: it passes through unclaimed. @default false */
  required?: boolean;
  /** How long an answer is kept and replayed, in ms (the durafetch client's default ttlMs). @default 86400000 */
  ttlMs?: number;
  /**
   * The lease of a claim, in ms: a process that dies mid-handler holds the key this long, then a
   * resend runs the handler again. Keep it above your slowest handler. @default 60000
   */
  lockTimeoutMs?: number;
  /**
   * Which caller a key belongs to: keys of different scopes never meet. A string, or null/undefined
   * for none. @default the Authorization header (hashed), when present
   */
  scope?: (request: Req) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * What makes a resend "the same request": the same key with another fingerprint gets 422.
   * Any string (it is hashed). @default method + path + query + body bytes
   */
  fingerprint?: (request: Req) => string | Promise<string>;
  /**
   * The largest response body stored, in bytes. A larger answer is sent in full to its caller, and
   * stored without its body: a replay gets its status and headers with an empty body. @default 1048576
   */
  maxBodyBytes?: number;
  /** A store call slower than this counts as unreachable: 503, the handler is not run. @default 5000 */
  storeTimeoutMs?: number;
  /**
   * Called when a store call fails or times out: 'claim' (the request got 503), 'complete' (the answer was
   * sent but not stored: the key stays claimed until its lease ends), 'release'. For logs and alerts.
   */
  onStoreError?: (error: unknown, context: { step: 'claim' | 'complete' | 'release'; id: string }) => void;
  /** The clock, epoch ms (tests and simulations). @default Date.now */
  now?: () => number;
}

/**
 * Wraps `handler` so it runs at most once per idempotency key (per scope) and its answer is
 * replayed to resends, marked `Idempotent-Replayed: true`. Throws IdempotencyError for bad options.
 */
export function idempotent<Rest extends unknown[]>(
  handler: FetchHandler<Rest>,
  options?: IdempotencyOptions<Request>,
): (request: Request, ...rest: Rest) => Promise<Response>;

/**
 * A fetch handler as a Node `http.createServer` listener: `(req, res) => void` with Node's
 * IncomingMessage and ServerResponse (typed loosely here so no @types/node is needed).
 */
export function toNodeListener(
  handler: (request: Request) => Response | Promise<Response>,
  options?: { onError?: (error: unknown, req: any) => void },
): (req: any, res: any) => void;

/**
 * Express middleware with the same semantics: `app.use(expressIdempotency({ store }))`, after your
 * body parser. In Express, `scope` and `fingerprint` receive Express's `req`.
 */
export function expressIdempotency(
  options?: IdempotencyOptions<any>,
): (req: any, res: any, next: (error?: unknown) => void) => void;

/** What a store's claim resolves with. */
export type ClaimReply =
  | { claimed: true }
  | {
      claimed: false;
      fingerprint: string;
      /** Epoch ms: the end of the lease (in flight) or of the answer's ttl (completed). */
      until: number;
      /** The stored answer (opaque bytes), or null while the first request is in flight. */
      response: Uint8Array | null;
    };

/**
 * Where keys live. Each method must be atomic for its id across every process sharing the store
 * (one Lua script, one SQL statement, one transaction, a conditional write): a read followed by a
 * write in two steps lets two requests both claim a key. A store may forget a record once its
 * `until` has passed. A method that rejects or hangs past storeTimeoutMs counts as unreachable.
 */
export interface IdempotencyStore {
  /**
   * No record for `id`, or its `until` <= `now`: write `{ fingerprint, owner, until, response: null }`
   * and resolve `{ claimed: true }`. Otherwise resolve the record as it is.
   */
  claim(id: string, claim: { fingerprint: string; owner: string; now: number; until: number }): Promise<ClaimReply>;
  /**
   * Only if the record is in flight and owned by `owner`: set its response and `until`, resolve true.
   * Otherwise (taken over, released, already completed) change nothing and resolve false.
   */
  complete(id: string, completion: { owner: string; response: Uint8Array; now: number; until: number }): Promise<boolean>;
  /** Only if the record is in flight and owned by `owner`: delete it and resolve true; else false. */
  release(id: string, owner: string): Promise<boolean>;
  /** The largest response (in bytes) it can hold, when it has a limit. */
  readonly maxResponseBytes?: number;
}

/** In this process only (tests, a single instance). */
export function memoryStore(): IdempotencyStore & {
  /** Records still live at `now`. */
  size(now?: number): number;
  clear(): void;
};

/** Anything that sends a Redis command: a node-redis client (v4+), or a wrapper around ioredis's `call`. */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Redis: one Lua script per step; records expire by themselves. */
export function redisStore(client: RedisCommander, options?: { prefix?: string }): IdempotencyStore;

/** A `pg` Pool, or anything with the same `query` and `connect`. */
export interface PgPoolLike {
  query(config: { name?: string; text: string; values?: unknown[] } | string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<{ query(text: string, values?: unknown[]): Promise<unknown>; release(): void }>;
}

/** PostgreSQL: one statement per step. Run `await store.migrate()` once to create the table. */
export function postgresStore(
  pool: PgPoolLike,
  options?: {
    /** @default 'durafetch_idempotency' */
    table?: string;
    /** Delete expired records in the background every this many claims (0: never). @default 1000 */
    sweepEvery?: number;
  },
): IdempotencyStore & {
  migrate(): Promise<void>;
  deleteExpired(now?: number, limit?: number): Promise<number>;
};

/** A Durable Object's `ctx.storage`: each step in a storage transaction. */
export function durableObjectStore(
  storage: any,
  options?: { prefix?: string },
): IdempotencyStore & { deleteExpired(now?: number): Promise<number> };

/** Deno KV (`await Deno.openKv()`): read, then commit with `atomic().check()`. */
export function denoKvStore(kv: any, options?: { prefix?: unknown[] }): IdempotencyStore;

export class IdempotencyError extends Error {
  name: 'IdempotencyError';
  kind: 'invalid-option' | 'invalid-handler' | 'invalid-response' | 'invalid-scope' | 'invalid-fingerprint';
  /** For 'invalid-option': which option, what it accepts, and what it got. */
  option?: string;
  expected?: string;
  value?: unknown;
  /** True also for an IdempotencyError from another realm or copy of the package. */
  static is(error: unknown): error is IdempotencyError;
}
