// A caller's fetch(input, init) as a request that can be sent any number of
// times: the body is read into bytes once, before the first attempt, so every
// resend carries exactly the same bytes whatever was passed (string, Blob,
// FormData, URLSearchParams, a Request). A ReadableStream can be read only
// once, so it is refused up front instead of being resent empty.
//
// The common call (a URL, and an init of method, headers, a string or byte
// body, a signal) is read directly, with no Request built: what fetch would
// make of it is cheap to reproduce. Anything else goes through `new Request`.
import { DurafetchError } from '../errors.js';

const encoder = new TextEncoder();
const FAST_FIELDS = new Set(['method', 'headers', 'body', 'signal', 'idempotencyKey', 'durable']);
// fetch upper-cases these method names, and only these.
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A copy of a string, Uint8Array or ArrayBuffer body (the caller may reuse
 *  its array before we resend); undefined for other kinds. */
function directBytes(body) {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body.slice();
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  return undefined;
}

function plainInit(init) {
  if (init == null) return true;
  for (const field in init) if (!FAST_FIELDS.has(field)) return false;
  const body = init.body;
  return body == null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** The absolute URL fetch would request, or undefined where it must decide. */
function absolute(input) {
  try {
    return new URL(input, globalThis.location?.href).href;
  } catch {
    return undefined;
  }
}

/**
 * What a call sends on every attempt.
 * @returns {{ input: Request | string, method: string, url: string, body: Uint8Array | null,
 *   headers: Headers | undefined, headerKey: string | undefined, signal: AbortSignal | undefined }
 *   | Promise<…>} synchronous for the common call
 */
export function prepare(input, init, keyHeader) {
  if (init != null && typeof init !== 'object') {
    throw new DurafetchError('invalid-option', { option: 'init', expected: 'an object, as for fetch', value: init });
  }
  if (typeof init?.body?.getReader === 'function') throw new DurafetchError('not-replayable');
  if ((typeof input === 'string' || input instanceof URL) && plainInit(init)) {
    const given = init?.method ?? 'GET';
    const method = NORMALIZED.has(given.toUpperCase()) ? given.toUpperCase() : given;
    const url = absolute(input);
    const bodyless = method === 'GET' || method === 'HEAD';
    if (url !== undefined && TOKEN.test(method) && !(bodyless && init?.body != null)) {
      const body = init?.body == null ? null : directBytes(init.body);
      const headers = init?.headers === undefined && body === null ? undefined : new Headers(init?.headers);
      if (typeof init?.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
      return { input: url, method, url, body, headers, headerKey: headers?.get(keyHeader) ?? undefined, signal: init?.signal ?? undefined };
    }
  }
  return prepareRequest(input, init, keyHeader);
}

async function prepareRequest(input, init, keyHeader) {
  let base;
  let body = null;
  try {
    base = new Request(input, init);
    // Blob, FormData, URLSearchParams, a Request's stream: through the
    // Request, which also gives FormData its boundary in content-type.
    if (base.body !== null) body = directBytes(init?.body) ?? new Uint8Array(await base.clone().arrayBuffer());
  } catch (cause) {
    throw new DurafetchError('invalid-request', { cause });
  }
  const headers = new Headers(base.headers);
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
  return { input: base, method: base.method, url: base.url, body, headers, headerKey: headers.get(keyHeader) ?? undefined, signal: signal ?? undefined };
}

/** Frees the connection of a response nobody will read. */
export function discard(response) {
  try {
    response.body?.cancel().catch(() => {});
  } catch {
    // A locked or already-read body: nothing to free.
  }
}
