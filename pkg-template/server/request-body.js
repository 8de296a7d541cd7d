// Reading a request body with a bound (maxRequestBytes): a client cannot
// make every process buffer gigabytes before a handler could refuse them.
// Past the bound the rest is not read (the stream is cancelled) and the
// request is answered 413; a Content-Length over it is refused unread.

/** The answer of readBounded() for a body over the bound. */
export const TOO_LARGE = Symbol('too large');

/** A declared Content-Length, or undefined. */
export function declaredLength(value) {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The body of a fetch Request as bytes, or TOO_LARGE. */
export async function readBounded(request, limit) {
  if ((declaredLength(request.headers.get('content-length')) ?? 0) > limit) {
    request.body?.cancel().catch(() => {});
    return TOO_LARGE;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) { out.set(chunk, at); at += chunk.byteLength; }
  return out;
}
