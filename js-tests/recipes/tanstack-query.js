// Recipe: durafetch as TanStack Query's mutationFn. Each order's idempotency
// key is chosen before the mutation starts and kept in sessionStorage until
// its answer is seen. If a reload cuts the mutation off, the next page's
// durafetch client resends the order with that key in the background, and
// recover() puts its answer into the query cache through result(key).
import { MutationObserver, QueryClient } from '@tanstack/query-core';
import { DurafetchError } from 'durafetch';

const PENDING = 'orders:pending'; // keys of orders sent from this tab, answer not seen yet
const pendingKeys = () => JSON.parse(sessionStorage.getItem(PENDING) ?? '[]');
const forget = (key) => sessionStorage.setItem(PENDING, JSON.stringify(pendingKeys().filter((k) => k !== key)));

async function placedOrder(response) {
  if (!response.ok) throw new Error(`order refused: ${response.status}`);
  return response.json();
}

export function orderMutations(durafetch, url) {
  const queryClient = new QueryClient();
  const placeOrder = new MutationObserver(queryClient, {
    networkMode: 'always', // offline, durafetch stores the order and sends it later: don't pause it
    mutationFn: ({ key, order }) => durafetch.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
      idempotencyKey: key,
    }).catch((error) => {
      // Stored and resent in the background: stay pending until it settles.
      if (DurafetchError.is(error) && error.kind === 'queued') {
        return durafetch.result(key).then((response) => response ?? Promise.reject(error));
      }
      throw error;
    }).then(placedOrder),
    onSuccess: (order, { key }) => queryClient.setQueryData(['order', key], order),
    onSettled: (_order, _error, { key }) => forget(key),
  });

  return {
    queryClient,
    placeOrder,
    submit(order) {
      const key = crypto.randomUUID();
      sessionStorage.setItem(PENDING, JSON.stringify([...pendingKeys(), key])); // before anything is sent
      return placeOrder.mutate({ key, order });
    },
    // On page load: orders a reload cut off, once this page's client has resent them.
    recover: () => Promise.all(pendingKeys().map(async (key) => {
      const response = await durafetch.result(key); // null: it settled on the old page
      forget(key);
      if (response) queryClient.setQueryData(['order', key], await placedOrder(response));
    })),
  };
}
