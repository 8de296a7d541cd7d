// The comparison: a plain retry loop, as fetch-retry or p-retry are used by
// default. Retries a network error or a 5xx up to `maxAttempts` times with
// the same full-jitter backoff durafetch uses, so the ONLY difference is
// that nothing ties the attempts together: no idempotency key. It also
// lives only in memory: a reload forgets what was in flight.

/** fetch with retries; `on(type, payload)` reports attempt/retry/settled/giveup. */
export async function plainRetry(url, init, { maxAttempts = 5, baseDelayMs = 100, maxDelayMs = 2000, on = () => {} } = {}) {
  for (let attempt = 1; ; attempt++) {
    on('attempt', { attempt });
    let response;
    let error;
    try {
      response = await fetch(url, init);
    } catch (e) {
      error = e;
    }
    const retryable = error !== undefined || response.status >= 500;
    if (!retryable) {
      on('settled', { status: response.status, attempts: attempt });
      return response;
    }
    const reason = error ? 'network' : 'status';
    if (attempt >= maxAttempts) {
      on('giveup', { reason, status: response?.status, attempts: attempt });
      if (error) throw error;
      return response;
    }
    await response?.body?.cancel(); // not read: free the connection
    const delayMs = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    on('retry', { attempt, delayMs, reason, status: response?.status });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
