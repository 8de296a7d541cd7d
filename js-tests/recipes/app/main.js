// The test's app: one durafetch client (options from ?o=) and the recipe,
// imported as is; state is exposed on window for the test to read.
import { createClient } from 'durafetch';
import { orderMutations } from '../tanstack-query.js';

const params = new URLSearchParams(location.search);
try {
  const durafetch = await createClient(JSON.parse(params.get('o') ?? '{}'));
  const orders = orderMutations(durafetch, params.get('url'));
  window.states = [];
  orders.placeOrder.subscribe(({ status, variables }) => window.states.push({ status, key: variables?.key }));
  window.settled = [];
  durafetch.on('settled', ({ key, status, resumed }) => window.settled.push({ key, status, resumed }));
  window.app = { durafetch, ...orders };
  orders.recover().then(() => { window.recovered = 'recovered'; }, (e) => { window.recovered = `recover failed: ${e}`; });
  window.ready = true;
} catch (e) {
  window.failed = `${e.name}: ${e.message}`;
}
