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
  /** How long an answer is kept and replayed, in ms, on the store's clock (the durafetch client's default ttlMs). @default 86400000 */
  ttlMs?: number;
  /**
   * The lease of a claim, in ms, on the store's clock: a process that dies mid-handler holds the key
   * this long, then a resend runs the handler again. Keep it above your slowest handler. @default 60000
   */
  lockTimeoutMs?: number;
  /**
   * Which caller a key belongs to. A key is claimed once per store whatever the scope; a request with
   * it from another scope gets 403 and never runs the handler nor sees the answer. Scope by account
   * (`(req) => accountId`) if tokens rotate between two sends of one operation. A string, or
   * null/undefined for none. @default the Authorization header (hashed), when present
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
  /**
   * The largest request body read (for the fingerprint). Past it: 413 problem+json, the rest not read,
   * nothing claimed. @default 1048576
   */
  maxRequestBytes?: number;
  /** A store call slower than this counts as unreachable: 503, the handler is not run. @default 5000 */
  storeTimeoutMs?: number;
  /**
   * Called when a store call fails or times out: 'claim' (the request got 503), 'complete' (retried while
   * the lease holds; if it never lands, the answer is sent unstored), 'release'. For logs and alerts.
   */
  onStoreError?: (error: unknown, context: { step: 'claim' | 'complete' | 'release'; id: string }) => void;
  /** The clock of stores that have none of their own (memory, Durable Object, Deno KV), epoch ms. @default Date.now */
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
  options?: {
    onError?: (error: unknown, req: any) => void;
    /** The largest request body buffered; past it, 413. @default the idempotent() handler's maxRequestBytes, else 1048576 */
    maxRequestBytes?: number;
  },
): (req: any, res: any) => void;

/**
 * Express middleware with the same semantics: `app.use(expressIdempotency({ store }))`, before or after
 * your body parser (before: it reads the raw body, fingerprints it and puts it back for the parser). In
 * Express, `scope` and `fingerprint` receive Express's `req`.
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
      /**
       * Epoch ms on the store's clock: the end of the lease (in flight) or of the answer's ttl
       * (completed), when the store keeps it (redisStore does not: Redis ends the record itself).
       */
      until?: number;
      /** The stored answer (opaque bytes), or null while the first request is in flight. */
      response: Uint8Array | null;
    };

/**
 * Where keys live. Each method must be atomic for its id across every process sharing the store
 * (one Lua script, one SQL statement, one transaction, a conditional write): a read followed by a
 * write in two steps lets two requests both claim a key. Times are the store's: `now` is the
 * middleware's clock, for a store that has none of its own; a store with one (Redis TIME, PostgreSQL
 * clock_timestamp()) must use it instead. A store may forget a record once its `until` has passed.
 * A method may answer directly (a synchronous store) or with a Promise; one that rejects or hangs past
 * storeTimeoutMs counts as unreachable (503), except an IdempotencyError, which is thrown (a setup mistake).
 */
export interface IdempotencyStore {
  /**
   * No record for `id`, or its `until` <= now: write `{ fingerprint, owner, until: now + leaseMs,
   * response: null }` and answer `{ claimed: true }`. Otherwise answer the record as it is.
   */
  claim(id: string, claim: { fingerprint: string; owner: string; now: number; leaseMs: number }): ClaimReply | Promise<ClaimReply>;
  /**
   * Only if the record is in flight and owned by `owner`: set its response and `until` = now + ttlMs,
   * answer true. Otherwise (taken over, released, already completed) change nothing and answer false.
   */
  complete(id: string, completion: { owner: string; response: Uint8Array; now: number; ttlMs: number }): boolean | Promise<boolean>;
  /** Only if the record is in flight and owned by `owner`: delete it and answer true; else false. */
  release(id: string, owner: string): boolean | Promise<boolean>;
  /** The largest response (in bytes) it can hold, when it has a limit. */
  readonly maxResponseBytes?: number;
}

/** In this process only (tests, a single instance). */
export function memoryStore(): IdempotencyStore & {
  /** Records still live at `now`. */
  size(now?: number): number;
  clear(): void;
};

/**
 * A Redis client as it is: node-redis v4-v6 `createClient()` or `createCluster()`, an ioredis `Redis` or
 * `Redis.Cluster`, or anything with `sendCommand(args, key)` that sends `args` to the node holding `key`.
 */
export type RedisClient = object;

/**
 * Redis (one server or a Cluster): one Lua script per step, on Redis's clock; records expire by
 * themselves. Throws IdempotencyError 'invalid-store' for something that is not a client; a client
 * never connected (or closed by the app) throws it at the first request.
 */
export function redisStore(client: RedisClient, options?: {
  /** @default 'durafetch:idempotency:' */
  prefix?: string;
  /**
   * Replicas that must acknowledge each claim and answer (WAIT) before the handler runs / the answer
   * is sent; a claim fewer acknowledged is given back and answered 503. Set 1 with a Cluster or any
   * replicated Redis: it keeps "one run per key" through a failover. @default 0
   */
  replicas?: number;
  /** How long WAIT waits for them. @default 500 */
  replicaTimeoutMs?: number;
}): IdempotencyStore & { readonly client: 'node-redis' | 'node-redis-cluster' | 'ioredis' | 'ioredis-cluster' | 'custom'; readonly replicas: number };

/** A `pg` Pool, or anything with the same `query` and `connect`. */
export interface PgPoolLike {
  query(config: { name?: string; text: string; values?: unknown[] } | string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<{ query(text: string, values?: unknown[]): Promise<unknown>; release(): void }>;
}

/**
 * PostgreSQL: one statement per step (autocommit, READ COMMITTED), on the database's clock; give it a
 * pool of the primary, never a replica. Run `await store.migrate()` once to create the table (without
 * it, the first request throws IdempotencyError 'invalid-store' saying so).
 */
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
  /** Deletes up to `limit` expired rows (by the database's clock); resolves with how many. */
  deleteExpired(limit?: number): Promise<number>;
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
  /** 'invalid-store': a store or client that cannot work as given; the message says what to change. */
  kind: 'invalid-option' | 'invalid-handler' | 'invalid-response' | 'invalid-scope' | 'invalid-fingerprint' | 'invalid-store';
  /** For 'invalid-option': which option, what it accepts, and what it got. */
  option?: string;
  expected?: string;
  value?: unknown;
  /** True also for an IdempotencyError from another realm or copy of the package. */
  static is(error: unknown): error is IdempotencyError;
}
