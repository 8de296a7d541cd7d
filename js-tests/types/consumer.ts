// A small app written against durafetch's types. `tsc --noEmit` must accept
// every line, and every `@ts-expect-error` must really be an error.
import { context, trace } from '@opentelemetry/api';
import { createClient, DurafetchError, handleBackgroundSync } from 'durafetch';
import { createClient as createWorkflowClient } from 'durafetch/workflows';
import type {
  BackgroundSync, DrainResult, DurafetchClient, DurafetchErrorKind, DurafetchOptions, DurafetchRecord, DurafetchStore,
  GiveUpEvent,
} from 'durafetch';

const records = new Map<string, DurafetchRecord>();
const store: DurafetchStore = {
  async get(key) { return records.get(key); },
  async put(record) { records.set(record.key, record); },
  async delete(key) { records.delete(key); },
  async list() { return [...records.values()]; },
};

const options: DurafetchOptions = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  deadlineMs: 60_000,
  attemptTimeoutMs: 5_000,
  retryOn: [429, 503],
  idempotencyHeader: 'X-Request-Id',
  breaker: { failureThreshold: 3, cooldownMs: 10_000 },
  retryBudget: { capacity: 100, retryCost: 5, timeoutCost: 10, refillPerSecond: 2 },
  // The Tracer of @opentelemetry/api is one, as it is.
  tracer: trace.getTracer('shop'),
  traceContext: () => context.active(),
  store,
  ttlMs: 60 * 60 * 1000,
  redactHeaders: ['x-api-key'],
  seed: 42,
  fetch: (input, init) => fetch(input, init),
  beforeReplay: async (request) => {
    const headers = new Headers(request.headers);
    headers.set('authorization', 'Bearer fresh-token');
    return new Request(request, { headers });
  },
};

export async function placeOrder(): Promise<{ id: string } | string> {
  const client: DurafetchClient = await createClient(options);
  const stop = client.on('retry', (e) => console.log(e.attempt, e.delayMs, e.reason, e.status ?? '-'));
  client.on('attempt', (e) => console.log(e.key ?? 'no key', e.method, e.url, e.attempt));
  client.on('giveup', (e: GiveUpEvent) => console.log(e.reason, e.attempts));
  client.on('breaker', (e) => console.log(e.origin, e.state === 'half-open'));
  client.on('settled', (e) => console.log(e.key, e.status, e.attempts));
  client.on('queued', (e) => console.log(`${e.key} stays queued after ${e.attempts} (${e.reason})`));
  client.on('store', (e) => {
    if (e.type === 'selected') console.log(e.store, e.persistent, e.note ?? '');
    else if (e.type === 'error') console.log(e.error.kind, e.error.action);
    else console.log(e.key, e.reason, e.moved);
  });
  const persistent: boolean = client.store !== 'memory';
  console.log(persistent);
  try {
    const response: Response = await client.fetch('https://api.example.test/orders', {
      method: 'POST',
      body: JSON.stringify({ item: 'widget' }),
      idempotencyKey: 'order-7',
      durable: true,
    });
    return (await response.json()) as { id: string };
  } catch (error) {
    if (!DurafetchError.is(error)) throw error;
    const kind: DurafetchErrorKind = error.kind;
    if (error.kind === 'circuit-open') return `retry in ${error.retryAfterMs} ms (${error.origin})`;
    if (error.kind === 'queued') return `queued (${error.reason}, status ${error.status ?? 'none'}): will be resent`;
    return `${kind} after ${error.attempts} attempts, key ${error.key ?? 'none'}`;
  } finally {
    stop();
    const pending = await client.pending();
    console.log(pending.map((p) => `${p.key} ${p.method} ${p.url} ${p.attempts} ${p.createdAt} ${p.durable}`));
    const resent: number = await client.resume();
    const drained: DrainResult = await client.drain();
    console.log(resent, drained.settled, drained.remaining);
    await client.close();
  }
}

/** A service worker's script. */
export async function worker(): Promise<number> {
  const sync: BackgroundSync = handleBackgroundSync({
    backgroundSync: false,
    beforeReplay: (request) => request.headers.set('authorization', 'Bearer fresh'),
  });
  const stop = sync.on('settled', (e) => console.log(e.key, e.status));
  stop();
  await createClient({ backgroundSync: false });
  const { settled, remaining } = await sync.started;
  return settled + remaining;
}

export async function checkout(): Promise<string> {
  // @ts-expect-error workflows run in a client from 'durafetch/workflows'
  await createClient({ workflows: { checkout: async () => 1 } });
  const client = await createWorkflowClient({
    workflows: {
      async checkout(step, input: { order: string; amount: number }) {
        const charge = await step('charge', (fetch) => fetch('/api/charges', { method: 'POST', body: JSON.stringify(input) }));
        const id: string = charge.body.id;
        const status: number = charge.status;
        const hold = await step('reserve', (fetch) => fetch('/api/holds', { method: 'POST', body: id }), {
          undo: (fetch, held) => fetch(`/api/holds/${held.body.id}`, { method: 'DELETE' }),
        });
        const total = await step('total', async () => input.amount * 2);
        const doubled: number = total;
        return { charge: id, hold: hold.body.id as string, status, doubled };
      },
    },
  });
  client.on('workflow', (e) => console.log(e.id, e.name, e.state === 'step-started' ? e.step : ''));
  const run = await client.start<{ charge: string }>('checkout', { order: 'o1', amount: 5 }, { id: 'order-42' });
  const done: { charge: string } = await run.result();
  const again = client.run('order-42');
  console.log(again?.state, (await client.runs()).map((r) => r.id));
  const late: Response | null = await client.result('order-7');
  try {
    await run.result();
  } catch (error) {
    if (DurafetchError.is(error) && error.kind === 'workflow-failed') console.log(error.step, error.compensated);
  }
  return `${done.charge} ${late?.status ?? 'none'}`;
}

export async function mistakes(client: DurafetchClient) {
  // @ts-expect-error a workflow is a function
  await createClient({ workflows: { checkout: 'charge' } });
  // @ts-expect-error a run's id is a string
  await client.start('checkout', {}, { id: 42 });
  // @ts-expect-error maxAttempts is a number
  await createClient({ maxAttempts: '5' });
  // @ts-expect-error breaker is an object or false
  await createClient({ breaker: 'off' });
  // @ts-expect-error a budget's numbers are numbers
  await createClient({ retryBudget: { capacity: '100' } });
  // @ts-expect-error a tracer starts spans
  await createClient({ tracer: { startActiveSpan() {} } });
  // @ts-expect-error no such store
  await createClient({ store: 'localStorage' });
  // @ts-expect-error a store adapter needs get, put, delete and list
  await createClient({ store: { get: async () => undefined } });
  // @ts-expect-error no such option
  await createClient({ retries: 3 });
  // @ts-expect-error no such event
  client.on('success', () => {});
  // @ts-expect-error a retry event has no `state`
  client.on('retry', (e) => e.state);
  // @ts-expect-error idempotencyKey is a string
  await client.fetch('/x', { method: 'POST', idempotencyKey: 7 });
  // @ts-expect-error the client's store is read-only
  client.store = 'memory';
  // @ts-expect-error backgroundSync is a boolean
  await createClient({ backgroundSync: 'off' });
  // @ts-expect-error not an error kind
  const kind: DurafetchErrorKind = 'timeout';
  return kind;
}
