// The checkout workflow the tests run (Node processes, Chromium pages,
// workerd): charge → reserve (compensated by a DELETE) → ship, against the
// scripted server's /charges, /holds and /shipments. `version: 2` renames a
// step, as a deploy that changed the code under a pending run would.
export function checkoutWorkflow(base, { version = 1 } = {}) {
  return async function checkout(step, input) {
    const post = (path, body) => (fetch) => fetch(`${base}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const charge = await step('charge', post('/charges', { order: input.order, amount: input.amount }));
    const hold = await step(version === 2 ? 'hold' : 'reserve', post('/holds', { order: input.order, charge: charge.body.key }), {
      undo: (fetch, held) => fetch(`${base}/holds/release`, { method: 'POST', body: JSON.stringify({ release: held.body.key }) }),
    });
    const ship = await step('ship', post('/shipments', { order: input.order, hold: hold.body.key }));
    return { charge: charge.body.key, hold: hold.body.key, ship: ship.status };
  };
}
