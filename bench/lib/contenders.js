// durafetch and its peers, each set up as its docs suggest for "retry on,
// default policy", all sending through the same `fetchImpl`: a stub for the
// CPU figures, Node's real fetch for loopback HTTP.
import { createClient } from 'durafetch';
import ky from 'ky';
import { retry, circuitBreaker, wrap, handleAll, ExponentialBackoff, ConsecutiveBreaker } from 'cockatiel';
import fetchRetry from 'fetch-retry';
import axios from 'axios';
import axiosRetry from 'axios-retry';

export const POST_BODY = JSON.stringify({ item: 'book', quantity: 1 });
const postInit = () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: POST_BODY });

/** `drain(response)` reads the body: needed on real HTTP to free the
 * connection, skipped on the stub so only library work is timed. */
export async function makeContenders(fetchImpl, { drain = async () => {} } = {}) {
  const durafetch = await createClient({ fetch: fetchImpl });
  const durafetchKeyed = await createClient({ fetch: fetchImpl, store: 'memory' });
  const kyClient = ky.create({ fetch: fetchImpl, retry: { limit: 2 } });
  const policy = wrap(
    retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const retryingFetch = fetchRetry(fetchImpl, { retries: 2, retryDelay: 100 });
  const axiosClient = axios.create({ adapter: 'fetch', env: { fetch: fetchImpl } });
  axiosRetry(axiosClient, { retries: 2 });

  const contenders = [
    { name: 'raw', method: 'GET', run: async (url) => drain(await fetchImpl(url)) },
    { name: 'raw POST', method: 'POST', run: async (url) => drain(await fetchImpl(url, postInit())) },
    { name: 'durafetch', method: 'GET', run: async (url) => drain(await durafetch.fetch(url)) },
    { name: 'durafetch keyed POST', method: 'POST', run: async (url) => drain(await durafetchKeyed.fetch(url, postInit())) },
    { name: 'ky', method: 'GET', run: async (url) => drain(await kyClient.get(url)) },
    // As cockatiel's README calls it. Passing its `signal` to Node's fetch piles
    // abort listeners onto cockatiel's shared never-aborted signal (warnings at 1,500).
    { name: 'cockatiel', method: 'GET', run: async (url) => drain(await policy.execute(() => fetchImpl(url))) },
    { name: 'fetch-retry', method: 'GET', run: async (url) => drain(await retryingFetch(url)) },
    // axios reads the body itself (responseType 'json' by default).
    { name: 'axios+axios-retry', method: 'GET', run: async (url) => { await axiosClient.get(url); } },
  ];
  const close = async () => {
    await durafetch.close();
    await durafetchKeyed.close();
  };
  return { contenders, close };
}
