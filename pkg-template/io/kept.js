// A settled operation's answer kept in the store for `client.result(key)`,
// when nobody in this context was waiting for it (it settled after a
// reload, or in another tab): stored as `{ key, data, response }`, the
// core's bytes (which key, its status, when) beside the response's parts.
// Bounded: bodies over KEPT_BODY_MAX are not kept (the status and headers
// are), and the drainer removes answers not read within ttlMs.

export const KEPT_BODY_MAX = 64 * 1024;

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([204, 205, 304]);

/** The response's parts as the store keeps them: { status, headers, body, bodyOmitted }. */
export async function keptForm(response, status) {
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
  return { status, headers, body, bodyOmitted };
}

/** The kept parts as a Response again. */
export function keptResponse(form) {
  const body = NULL_BODY.has(form.status) ? null : form.body;
  return new Response(body, { status: form.status, headers: form.headers });
}
