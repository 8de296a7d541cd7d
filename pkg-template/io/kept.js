// A settled operation's answer kept in the store for `client.result(key)`,
// when nobody in this context was waiting for it (it settled after a
// reload, or in another tab). Bounded: bodies over KEPT_BODY_MAX are not
// kept (the status and headers are), and the drainer removes results not
// read within ttlMs.

export const KEPT_BODY_MAX = 64 * 1024;

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([204, 205, 304]);

/** The stored form: { v, kind: 'result', key, status, headers, body, bodyOmitted, settledAt }. */
export async function keptForm(response, key, status) {
  const headers = [...response.headers].filter(([name]) => name !== 'set-cookie');
  const length = Number(response.headers.get('content-length') ?? NaN);
  let body = null;
  let bodyOmitted = false;
  if (length > KEPT_BODY_MAX) {
    bodyOmitted = true;
    response.body?.cancel().catch(() => {});
  } else {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > KEPT_BODY_MAX) bodyOmitted = true;
    else body = bytes;
  }
  return { v: 1, kind: 'result', key, status, headers, body, bodyOmitted, settledAt: Date.now() };
}

/** The kept result as a Response again. */
export function keptResponse(value) {
  const body = NULL_BODY.has(value.status) ? null : value.body;
  return new Response(body, { status: value.status, headers: value.headers });
}

/** What the core reads of it (not the body). */
export function keptMeta({ v, kind, key, status, settledAt }) {
  return { v, kind, key, status, settledAt };
}
