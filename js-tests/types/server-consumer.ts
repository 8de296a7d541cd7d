// A small server written against durafetch/server's types. `tsc --noEmit`
// must accept every line, and every `@ts-expect-error` must really be an error.
import {
  idempotent, toNodeListener, expressIdempotency, memoryStore, redisStore, postgresStore,
  durableObjectStore, denoKvStore, IdempotencyError,
} from 'durafetch/server';
import type { ClaimReply, IdempotencyOptions, IdempotencyStore } from 'durafetch/server';

// A store of one's own (DynamoDB conditional writes fit the same shape).
const records = new Map<string, { fingerprint: string; owner: string; until: number; response: Uint8Array | null }>();
const custom: IdempotencyStore = {
  async claim(id, { fingerprint, owner, now, leaseMs }): Promise<ClaimReply> {
    const r = records.get(id);
    if (r && r.until > now) return { claimed: false, fingerprint: r.fingerprint, until: r.until, response: r.response };
    records.set(id, { fingerprint, owner, until: now + leaseMs, response: null });
    return { claimed: true };
  },
  complete(id, { owner, response, now, ttlMs }) { // a synchronous store answers directly
    const r = records.get(id);
    if (!r || r.owner !== owner || r.response) return false;
    records.set(id, { ...r, response, until: now + ttlMs });
    return true;
  },
  async release(id, owner) {
    return records.get(id)?.owner === owner && records.delete(id);
  },
};

const options: IdempotencyOptions = {
  store: custom,
  header: 'Idempotency-Key',
  methods: ['POST', 'PUT'],
  required: true,
  ttlMs: 86_400_000,
  lockTimeoutMs: 30_000,
  scope: (request) => request.headers.get('x-tenant'),
  fingerprint: async (request) => `${request.method} ${await request.text()}`,
  maxBodyBytes: 65_536,
  maxRequestBytes: 262_144,
  storeTimeoutMs: 2_000,
  now: () => Date.now(),
};

// Deno.serve / workerd: extra arguments pass through with their types.
const handler = idempotent(async (request: Request, env: { DB: string }) => Response.json({ db: env.DB, url: request.url }, { status: 201 }), options);
const answer: Promise<Response> = handler(new Request('http://x/orders', { method: 'POST' }), { DB: 'orders' });
void answer;

const listener = toNodeListener(idempotent(async () => new Response('ok'), { store: memoryStore() }), { maxRequestBytes: 65_536 });
void listener;
const middleware = expressIdempotency({ store: memoryStore(), scope: (req) => String(req.user?.id) });
void middleware;

declare const redisClient: { sendCommand(args: string[]): Promise<unknown> };
declare const pool: Parameters<typeof postgresStore>[0];
const pg = postgresStore(pool, { table: 'idempotency', sweepEvery: 500 });
const migrated: Promise<void> = pg.migrate();
void migrated;
void redisStore(redisClient, { prefix: 'app:', replicas: 1, replicaTimeoutMs: 250 });
void durableObjectStore({} as unknown, { prefix: 'k:' });
void denoKvStore({} as unknown);
const live: number = memoryStore().size();
void live;

try {
  idempotent(async () => new Response(''), { lockTimeoutMs: 0 });
} catch (e) {
  if (IdempotencyError.is(e) && e.kind === 'invalid-option') console.log(e.option, e.expected);
}

// @ts-expect-error: an unknown option
idempotent(async () => new Response(''), { lockTimeout: 5 });
// @ts-expect-error: a handler must return a Response
idempotent(async () => 'not a response');
// @ts-expect-error: a store needs claim, complete and release
idempotent(async () => new Response(''), { store: { claim: async () => ({ claimed: true as const }) } });
// @ts-expect-error: methods are strings
idempotent(async () => new Response(''), { methods: [1] });
