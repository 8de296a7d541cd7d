// idempotent(handler, options): a fetch handler, (Request) => Promise<Response>,
// that runs `handler` at most once per idempotency key and replays its
// answer. Works wherever handlers take a Request: Deno.serve,
// workerd's `export default { fetch }`, Hono's app.fetch, and Node through
// toNodeListener. Extra arguments (Deno's info, workerd's env and ctx) are
// passed to the handler as they came.
import { createEngine, headerText, isThenable } from './engine.js';
import { answerResponse, problemResponse } from './answers.js';
import { bufferUpTo } from './body.js';
import { IdempotencyError } from './errors.js';
import { handedOff } from './handoff.js';
import { readBounded, TOO_LARGE } from './request-body.js';

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

  const plain = !engine.customScope && !engine.customFingerprint;

  async function idempotentHandler(request, ...rest) {
    const header = request.headers.get(engine.header) ?? undefined;
    // The body is read once, bounded, for the fingerprint; the handler gets a
    // request carrying the same bytes (or the original, unread, from
    // toNodeListener, which already read it within the same bound: then
    // admission and fingerprint are one call into the core).
    const handed = handedOff(request);
    let claim;
    let forHandler = request;
    if (handed !== undefined && plain) {
      claim = engine.admitAndClaim(request.method, header, pathAndQuery(request.url), handed, request.headers.get('authorization') ?? undefined);
      if (claim === undefined) return handler(request, ...rest);
    } else {
      const key = engine.admit(request.method, header);
      if (key === undefined) return handler(request, ...rest);
      if (typeof key !== 'string') return problemResponse(key);
      let body = handed;
      if (body === undefined) {
        body = await readBounded(request, engine.maxRequestBytes);
        if (body === TOO_LARGE) return problemResponse(engine.tooLarge());
        forHandler = rebuild(request, body);
      }
      const scope = engine.checkScope(engine.customScope
        ? await engine.customScope(forHandler.clone())
        : request.headers.get('authorization'));
      const claimant = engine.customFingerprint
        ? engine.customClaimant(await engine.customFingerprint(forHandler.clone()), scope)
        : engine.claimant(request.method, pathAndQuery(request.url), body, scope);
      claim = engine.claim(key, claimant);
    }
    const fromNode = handed !== undefined;
    if (isThenable(claim)) claim = await claim;
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
      buffered = await bufferUpTo(response, engine.maxBodyBytes, fromNode);
    } catch (error) {
      await engine.release(claim); // the body broke: there is no answer to store
      throw error;
    }
    const stored = engine.finish(claim, response.status, headerText(response.headers), buffered.bytes);
    if (isThenable(stored)) await stored;
    return buffered.response;
  }
  // toNodeListener bounds the body it buffers by this, when it wraps this handler.
  idempotentHandler.maxRequestBytes = engine.maxRequestBytes;
  return idempotentHandler;
}
