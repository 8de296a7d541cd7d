// A caller's fetch(input, init) as a request that can be sent any number of
// times: the body is read into bytes once, before the first attempt, so every
// resend carries exactly the same bytes whatever was passed (string, Blob,
// FormData, URLSearchParams, a Request). A ReadableStream can be read only
// once, so it is refused up front instead of being resent empty.
import { DurafetchError } from '../errors.js';

const encoder = new TextEncoder();

/** A copy of a string, Uint8Array or ArrayBuffer body (the caller may reuse
 *  its array before we resend); undefined for other kinds. */
function directBytes(body) {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body.slice();
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  return undefined;
}

/**
 * @returns {Promise<{ base: Request, method: string, url: string, body: Uint8Array | null,
 *   headers: Headers, headerKey: string | undefined, signal: AbortSignal | undefined }>}
 */
export async function prepare(input, init, keyHeader) {
  if (init != null && typeof init !== 'object') {
    throw new DurafetchError('invalid-option', { option: 'init', expected: 'an object, as for fetch', value: init });
  }
  if (typeof init?.body?.getReader === 'function') throw new DurafetchError('not-replayable');
  let base;
  let body = null;
  try {
    base = new Request(input, init);
    // The common bodies are copied directly; the rest (Blob, FormData,
    // URLSearchParams, a Request's stream) through the Request, which also
    // gives FormData its boundary in content-type.
    if (base.body !== null) body = directBytes(init?.body) ?? new Uint8Array(await base.clone().arrayBuffer());
  } catch (cause) {
    throw new DurafetchError('invalid-request', { cause });
  }
  const headers = new Headers(base.headers);
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
  return { base, method: base.method, url: base.url, body, headers, headerKey: headers.get(keyHeader) ?? undefined, signal: signal ?? undefined };
}

/** A signal that aborts when either does: AbortSignal.any where the runtime
 *  has it, else a listener. */
export function eitherSignal(caller, own) {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([caller, own.signal]);
  caller.addEventListener('abort', () => own.abort(caller.reason), { once: true });
  return own.signal;
}

/** Frees the connection of a response nobody will read. */
export function discard(response) {
  try {
    response.body?.cancel().catch(() => {});
  } catch {
    // A locked or already-read body: nothing to free.
  }
}
