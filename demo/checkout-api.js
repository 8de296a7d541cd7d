// The checkout API the page's 'checkout' workflow calls: one endpoint per
// step, each a plain handler made idempotent by durafetch/server, exactly
// like /orders. server.js puts the chaos knobs in front of them.
//
//   POST   /charges     charge    { checkout, amount }        -> 201 { id, checkout, amount }
//   POST   /holds       reserve   { checkout, item, charge }  -> 201 { id, checkout, item, charge }
//   DELETE /holds/:id   release   (reserve's undo)            -> 200 { id, checkout, released: true }
//   POST   /shipments   ship      { checkout, hold }          -> 201 { id, checkout, hold }
//                                                               (422 with the refuseShipping knob)
//
// `checkout` is the run's id. Per run and step the API counts the requests
// that reached it (first sends, resends answered from the key store, 409s)
// and the effects it applied: a step applied twice is a duplicate effect.
import { idempotent } from 'durafetch/server';

export const CHECKOUT_STEPS = ['charge', 'reserve', 'ship', 'release'];

const json = (status, body) => Response.json(body, { status, headers: { 'Cache-Control': 'no-store' } });
const bad = (message) => json(400, { error: message });
const nonEmpty = (v) => typeof v === 'string' && v !== '';

const fresh = () => ({
  counters: { duplicatesSuppressed: 0, conflicts409: 0, mismatches422: 0, dropped: 0, errors503: 0, rateLimited429: 0 },
  charges: new Map(), holds: new Map(), shipments: new Map(),
  runs: new Map(), // checkout -> { [step]: { requests, effects } }
  seq: 0,
});

/** A JSON object body with a `checkout` id, or a 400 Response. */
async function order(request) {
  let body;
  try { body = JSON.parse(await request.text()); } catch { return bad('body must be valid JSON'); }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('body must be a JSON object');
  if (!nonEmpty(body.checkout)) return bad('field "checkout" (the run id) must be a non-empty string');
  return body;
}

/**
 * `idempotency`: durafetch/server's options (store, ttlMs, now, scope);
 * `linger()`: resolves after the chaos latency (the key stays claimed meanwhile);
 * `refuseShipping()`: true when shipments are to be refused.
 */
export function checkoutApi({ idempotency, linger, refuseShipping = () => false }) {
  let state = fresh();

  const tally = (checkout, step, field) => {
    if (!state.runs.has(checkout)) state.runs.set(checkout, Object.fromEntries(CHECKOUT_STEPS.map((s) => [s, { requests: 0, effects: 0 }])));
    state.runs.get(checkout)[step][field]++;
  };
  const apply = async (step, table, prefix, record) => {
    const id = `${prefix}_${++state.seq}`;
    table.set(id, { id, ...record });
    tally(record.checkout, step, 'effects');
    await linger();
    return json(201, { id, ...record });
  };

  const steps = {
    async charge(request) {
      const body = await order(request);
      if (body instanceof Response) return body;
      if (!Number.isInteger(body.amount) || body.amount < 1) return bad('field "amount" must be a positive integer');
      return apply('charge', state.charges, 'ch', { checkout: body.checkout, amount: body.amount });
    },
    async reserve(request) {
      const body = await order(request);
      if (body instanceof Response) return body;
      if (!nonEmpty(body.item) || !nonEmpty(body.charge)) return bad('fields "item" and "charge" must be non-empty strings');
      return apply('reserve', state.holds, 'hold', { checkout: body.checkout, item: body.item, charge: body.charge });
    },
    async ship(request) {
      const body = await order(request);
      if (body instanceof Response) return body;
      if (!nonEmpty(body.hold)) return bad('field "hold" must be a non-empty string');
      if (!state.holds.has(body.hold)) return bad(`no hold ${body.hold}`);
      if (refuseShipping()) return json(422, { error: 'cannot ship this order (refuseShipping)' });
      return apply('ship', state.shipments, 'shp', { checkout: body.checkout, hold: body.hold });
    },
    async release(request) {
      const hold = state.holds.get(new URL(request.url).pathname.split('/').pop());
      if (!hold) return json(404, { error: 'no such hold' });
      // Releasing a released hold changes nothing: only the first is an effect.
      if (!hold.released) {
        hold.released = true;
        tally(hold.checkout, 'release', 'effects');
        await linger();
      }
      return json(200, { id: hold.id, checkout: hold.checkout, released: true });
    },
  };
  const keyed = Object.fromEntries(Object.entries(steps).map(([step, handler]) => [step, idempotent(handler, idempotency)]));

  /** The run a request belongs to, read from a copy, for the request count. */
  async function runOf(step, request) {
    if (step === 'release') return state.holds.get(new URL(request.url).pathname.split('/').pop())?.checkout;
    try { return JSON.parse(await request.clone().text())?.checkout; } catch { return undefined; }
  }

  /** The step that `method pathname` performs, or undefined. */
  function stepOf(method, pathname) {
    if (method === 'POST' && pathname === '/charges') return 'charge';
    if (method === 'POST' && pathname === '/holds') return 'reserve';
    if (method === 'DELETE' && /^\/holds\/[\w-]+$/.test(pathname)) return 'release';
    if (method === 'POST' && pathname === '/shipments') return 'ship';
    return undefined;
  }

  return {
    get counters() { return state.counters; },

    /** The handler for `method pathname` (a fetch handler), or undefined. */
    route(method, pathname) {
      const step = stepOf(method, pathname);
      if (!step) return undefined;
      return async (request) => {
        const run = await runOf(step, request);
        if (nonEmpty(run)) tally(run, step, 'requests');
        return keyed[step](request);
      };
    },

    stats() {
      const effects = Object.fromEntries(CHECKOUT_STEPS.map((s) => [s, 0]));
      let duplicateEffects = 0;
      for (const counts of state.runs.values()) {
        for (const s of CHECKOUT_STEPS) {
          effects[s] += counts[s].effects;
          duplicateEffects += Math.max(0, counts[s].effects - 1);
        }
      }
      return { ...state.counters, effects, duplicateEffects, runs: Object.fromEntries(state.runs) };
    },

    reset() { state = fresh(); },
  };
}
