// idempotent(handler, options): a fetch handler, (Request) => Promise<Response>,
// that runs `handler` at most once per idempotency key and replays its
// answer. Works wherever handlers take a Request: Deno.serve,
// workerd's `export default { fetch }`, Hono's app.fetch, and Node through
// toNodeListener. Extra arguments (Deno's info, workerd's env and ctx) are
// passed to the handler as they came.
import { createEngine } from './engine.js';
import { answerResponse, problemResponse } from './answers.js';
import { bufferUpTo } from './body.js';
import { IdempotencyError } from './errors.js';
import { handOff, handedOff } from './handoff.js';

/** Path and query of an absolute URL, without parsing all of it. */
function pathAndQuery(url) {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const hash = url.indexOf('#', start);
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/** `request` with `body` as its body (its own was read): what the handler gets. */
function rebuild(request, body) {
  const init = { method: request.method, headers: request.headers, body: body.byteLength > 0 ? body : null, signal: request.signal };
  if (request.cf !== undefined) init.cf = request.cf; // workerd's request metadata
  return new Request(request.url, init);
}

function isResponse(value) {
  return value !== null && typeof value === 'object' && typeof value.status === 'number' &&
    typeof value.headers?.get === 'function' && 'body' in value;
}

export function idempotent(handler, options) {
  if (typeof handler !== 'function') {
    throw new IdempotencyError('invalid-handler', `idempotent(handler, options): handler must be a function (request) => Response, got ${typeof handler}`);
  }
  const engine = createEngine(options);

  return async function idempotentHandler(request, ...rest) {
    const key = engine.admit(request.method, request.headers.get(engine.header));
    if (key === undefined) return handler(request, ...rest);
    if (typeof key !== 'string') return problemResponse(key);

    // The body is read once, for the fingerprint; the handler gets a request
    // carrying the same bytes (or the original, unread, from toNodeListener).
    let forHandler = request;
    let body = handedOff(request);
    if (body === undefined) {
      body = new Uint8Array(await request.arrayBuffer());
      forHandler = rebuild(request, body);
    }
    const scope = engine.checkScope(engine.customScope
      ? await engine.customScope(forHandler.clone())
      : request.headers.get('authorization'));
    const fingerprint = engine.customFingerprint
      ? engine.customFingerprintOf(await engine.customFingerprint(forHandler.clone()))
      : engine.fingerprint(request.method, pathAndQuery(request.url), body);

    const claim = await engine.claim(key, scope, fingerprint);
    if (claim.verdict !== null) return answerResponse(claim);

    let response;
    try {
      response = await handler(forHandler, ...rest);
      if (!isResponse(response)) {
        throw new IdempotencyError('invalid-response', `the handler must resolve with a Response, got ${response === null ? 'null' : typeof response}`);
      }
    } catch (error) {
      await engine.release(claim); // a failure: the key is given back, a resend runs again (documented)
      throw error;
    }
    let buffered;
    try {
      buffered = await bufferUpTo(response, engine.maxBodyBytes);
    } catch (error) {
      await engine.release(claim); // the body broke: there is no answer to store
      throw error;
    }
    await engine.finish(claim, response.status, [...response.headers], buffered.bytes);
    return buffered.bytes === undefined ? buffered.response : handOff(buffered.response, buffered.bytes);
  };
}
