// The checkout workflow: three steps against the demo server's checkout API
// (demo/checkout-api.js). durafetch journals the run in IndexedDB before its
// first step; a completed step is replayed from the journal, never re-sent;
// a step a reload interrupted is resent by the next page with the same keys.
// If shipping is refused, the reservation is released (reserve's undo).
//
// Deterministic on purpose: the same input takes the same steps in the same
// order, so a resumed run lines up with its journal.

export const STEPS = ['charge', 'reserve', 'ship'];

/** The workflow for createClient({ workflows: { checkout } }); `apiBase`: the server's origin. */
export function checkoutWorkflow(apiBase) {
  const post = (path, body) => (fetch) => fetch(`${apiBase}${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return async function checkout(step, { checkout, amount, item }) {
    const charge = await step('charge', post('/charges', { checkout, amount }));
    const hold = await step('reserve', post('/holds', { checkout, item, charge: charge.body.id }), {
      undo: (fetch, held) => fetch(`${apiBase}/holds/${held.body.id}`, { method: 'DELETE' }),
    });
    const shipment = await step('ship', post('/shipments', { checkout, hold: hold.body.id }));
    return { charge: charge.body.id, hold: hold.body.id, shipment: shipment.body.id };
  };
}
