// Placing one order through each client. Both send the same JSON body with a
// clientOrderId: the server counts effects per clientOrderId, which is how
// it sees duplicates whichever client caused them.
import { DurafetchError } from 'durafetch';
import { plainRetry } from './plain-retry.js';

export const RETRY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };

const orderInit = (clientOrderId) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ item: 'coffee', qty: 1, clientOrderId }),
});

/**
 * `?order=n&tab=t` lets the page tie durafetch's events (which carry the URL)
 * to a row: the outbox is shared by every tab of the origin, the rows are not.
 */
export const orderUrl = (apiBase, row, tab) => new URL(`/orders?order=${row.n}&tab=${tab}`, apiBase);

export function orderRef(url) {
  const params = new URL(url).searchParams;
  const n = Number(params.get('order'));
  return Number.isInteger(n) && n > 0 ? { n, tab: params.get('tab') } : undefined;
}

/**
 * durafetch picks the key itself and reports progress as events (see
 * durafetch-events.js). A 'queued' rejection is not a failure: the order is
 * in the outbox and its outcome arrives later as a 'settled' event.
 */
export async function placeWithDurafetch(client, lane, row, url) {
  try {
    const response = await client.fetch(url, orderInit(row.id));
    await response.text();
  } catch (error) {
    if (DurafetchError.is(error) && error.kind === 'queued') {
      // Queued before any attempt (breaker open): its 'queued' event came
      // before this row knew its key; the error carries both.
      if (error.key && lane.bind(row, error.key)) lane.queued(row, error);
      return;
    }
    lane.failed(row, {});
    row.error = error.message;
  }
}

/** The plain loop reports to its lane directly; nothing outlives the page. */
export async function placeWithPlainLoop(lane, row, apiBase, onChange) {
  const on = (type, payload) => {
    if (type === 'attempt') lane.attempt(row);
    else if (type === 'retry') lane.retry(row, payload);
    else if (type === 'settled') lane.settled(row, payload);
    else if (type === 'giveup') lane.failed(row, payload);
    onChange();
  };
  try {
    const response = await plainRetry(new URL('/orders', apiBase), orderInit(row.id), { ...RETRY, on });
    await response.text();
  } catch {
    // reported through `on` already
  }
}
