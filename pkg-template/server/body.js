// Buffers a handler's response body up to a limit, so it can be stored and
// still be sent. A longer body is not buffered whole: the caller gets what
// was read followed by the rest of the stream, and the core records the
// answer without its body.
import { HeldResponse } from './held-response.js';

/** Statuses whose responses have no body (a body there makes Response throw). */
export const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function concat(chunks, size) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) { out.set(chunk, at); at += chunk.byteLength; }
  return out;
}

/**
 * Resolves with `{ bytes, response }`: `bytes` the whole body (undefined
 * when over `max`), `response` an unread Response to send in its place (a
 * HeldResponse when `held`: toNodeListener will send it).
 */
export async function bufferUpTo(response, max, held) {
  if (response.body === null) return { bytes: new Uint8Array(0), response };
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = value instanceof Uint8Array ? value : new Uint8Array(value);
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > max) {
      const rest = new ReadableStream({
        start(controller) { for (const c of chunks) controller.enqueue(c); },
        async pull(controller) {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return { bytes: undefined, response: rebuild(response, rest) };
    }
  }
  const bytes = concat(chunks, size);
  return { bytes, response: rebuild(response, bytes, held) };
}

function rebuild(response, body, held) {
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (NULL_BODY_STATUSES.has(response.status)) return new Response(null, init);
  return held ? new HeldResponse(body, init) : new Response(body, init);
}
