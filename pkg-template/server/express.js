// expressIdempotency(options): the same protocol as Express middleware,
// `app.use(expressIdempotency({ store }))`, before or after your body parser:
// - after one (express.json(), express.raw(), …): the fingerprint covers
//   `req.body` as the parser left it;
// - before one, or with none: it reads the raw body (up to maxRequestBytes:
//   past it, 413 and the rest unread), fingerprints those bytes, and puts
//   them back into the request stream, so the parser after it, or a handler
//   that reads the stream, gets the body as if nothing had read it.
// The answer is captured from res.write/res.end (wrappers on the response
// prototype, below) and stored before the end of the response is sent.
// Express is not a dependency of this package.
import { createEngine, isThenable } from './engine.js';
import { REPLAYED_HEADER } from './answers.js';
import { NULL_BODY_STATUSES } from './body.js';
import { IdempotencyError } from './errors.js';
import { declaredLength } from './request-body.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const TOO_LARGE = Symbol('too large');

function hasBody(req) {
  return req.headers['transfer-encoding'] !== undefined || (declaredLength(req.headers['content-length']) ?? 0) > 0;
}

/**
 * Reads the whole body without letting the stream end, then puts it back
 * (`unshift`) before 'end' is emitted: whoever reads the request next sees
 * every byte. Resolves with the bytes, or TOO_LARGE (the rest left unread).
 */
function readAndPutBack(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const done = (value) => {
      req.removeListener('readable', onReadable);
      req.removeListener('error', onError);
      resolve(value);
    };
    const onError = (error) => {
      req.removeListener('readable', onReadable);
      reject(error);
    };
    function onReadable() {
      let chunk;
      while ((chunk = req.read()) !== null) {
        size += chunk.byteLength;
        if (size > limit) return done(TOO_LARGE);
        chunks.push(chunk);
      }
      // Everything arrived and was read: 'end' is scheduled for the next
      // tick; putting the bytes back now cancels it until they are read again.
      if (req.complete) {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        if (size > 0) req.unshift(body);
        done(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      }
    }
    req.on('readable', onReadable);
    req.on('error', onError);
  });
}

/** What a parser left in req.body, as bytes or as text (JSON for an object), or undefined: no parser ran. */
function parsedBody(req) {
  const body = req.body;
  if (body instanceof Uint8Array || typeof body === 'string') return body;
  if (body !== undefined && body !== null && (req._body || Object.keys(body).length > 0)) return JSON.stringify(body);
  return undefined;
}

/** The bytes to fingerprint: what a parser left in req.body, or the raw body. */
function bodyBytes(req, limit) {
  const parsed = parsedBody(req);
  if (parsed !== undefined) return typeof parsed === 'string' ? encoder.encode(parsed) : parsed;
  if (req.readableEnded || !hasBody(req)) return EMPTY;
  if ((declaredLength(req.headers['content-length']) ?? 0) > limit) return TOO_LARGE;
  return readAndPutBack(req, limit);
}

function sendProblem(res, problem, close) {
  res.statusCode = problem.status;
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('cache-control', 'no-store');
  if (problem.retryAfter !== undefined) res.setHeader('retry-after', String(problem.retryAfter));
  if (close) res.setHeader('connection', 'close'); // the rest of the body is not read
  res.end(problem.body);
}

function sendAnswer(res, claim) {
  const v = claim.verdict;
  if (!v.replayed) return sendProblem(res, v);
  res.statusCode = v.status;
  for (const [name, value] of v.headers) res.setHeader(name, value);
  res.setHeader(REPLAYED_HEADER, 'true');
  if (v.bodyOmitted || NULL_BODY_STATUSES.has(v.status)) res.end();
  else {
    const stored = claim.reply.response;
    res.end(Buffer.from(stored.buffer, stored.byteOffset + v.bodyOffset, stored.byteLength - v.bodyOffset));
  }
}

function headerText(res) {
  let text = '';
  const headers = res.getHeaders();
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) text += `${name}:${v}\n`;
    else if (value !== undefined) text += `${name}:${value}\n`;
  }
  return text;
}

// Capturing the handler's answer. Assigning res.write/res.end/res.writeHead
// on every response (the usual way) changes each response object's shape
// and cost ~17 µs of CPU per request in Node 20, about as much as the rest of
// the middleware. Instead the response prototype (Node's ServerResponse,
// found from `res`) gets pass-through wrappers once, and a response being
// captured holds its capture under a symbol (Express has already given each
// response its own properties and prototype; a WeakMap cost more, in its
// lookups and in the collector's handling of it): an uncaptured response
// pays one missing-property load per write/end.
const CAPTURE = Symbol('durafetch.server.capture');
const INSTALLED = Symbol.for('durafetch.server.capture');

class Capture {
  constructor(engine, claim) {
    this.engine = engine;
    this.claim = claim;
    this.maxBodyBytes = engine.maxBodyBytes;
    this.first = undefined; // the first chunk; `more` holds the rest, when there are more
    this.more = undefined;
    this.size = 0;
  }

  collect(chunk, encoding) {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || this.size > this.maxBodyBytes) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
    this.size += bytes.byteLength;
    if (this.size > this.maxBodyBytes) return;
    if (this.first === undefined) this.first = bytes;
    else (this.more ??= []).push(bytes);
  }

  /** The whole body, or undefined when it was over maxBodyBytes. */
  body() {
    if (this.size > this.maxBodyBytes) return undefined;
    if (this.more === undefined) return this.first ?? EMPTY;
    return Buffer.concat([this.first, ...this.more], this.size);
  }
}

function install(res) {
  let proto = Object.getPrototypeOf(res);
  while (proto && !Object.hasOwn(proto, 'writeHead')) proto = Object.getPrototypeOf(proto);
  if (!proto || proto[INSTALLED]) return;
  const { write, end, writeHead } = proto;
  Object.defineProperty(proto, INSTALLED, { value: true });
  proto.writeHead = function capturingWriteHead(status, reason, headers) {
    // Headers given here bypass res.getHeaders(): set them so they are seen.
    const given = typeof reason === 'string' ? headers : reason;
    if (this[CAPTURE] !== undefined && given && !Array.isArray(given)) {
      for (const [name, value] of Object.entries(given)) this.setHeader(name, value);
      return typeof reason === 'string' ? writeHead.call(this, status, reason) : writeHead.call(this, status);
    }
    return writeHead.apply(this, arguments);
  };
  proto.write = function capturingWrite(chunk, encoding, callback) {
    this[CAPTURE]?.collect(chunk, encoding);
    return write.call(this, chunk, encoding, callback);
  };
  proto.end = function capturingEnd(chunk, encoding, callback) {
    const c = this[CAPTURE];
    if (c === undefined) return end.call(this, chunk, encoding, callback);
    c.collect(chunk, encoding);
    this[CAPTURE] = undefined; // not `delete`: that would turn the object into a dictionary
    const stored = c.engine.finish(c.claim, this.statusCode, headerText(this), c.body());
    // A synchronous store (memoryStore) has stored it already: end now.
    if (isThenable(stored)) {
      const ending = () => end.call(this, chunk, encoding, callback);
      // A setup error (IdempotencyError) still surfaces, as before, once the response has ended.
      stored.then(ending, (error) => { ending(); throw error; });
    } else {
      end.call(this, chunk, encoding, callback);
    }
    return this;
  };
}

/** Captures the handler's answer: `engine.finish(claim, …)` runs before the real end. */
function capture(res, engine, claim) {
  if (res[INSTALLED] !== true) install(res);
  res[CAPTURE] = new Capture(engine, claim);
}

/** `app.use(expressIdempotency)` (the factory itself) instead of `app.use(expressIdempotency(options))`. */
function looksLikeARequest(options) {
  return options !== null && typeof options === 'object' && typeof options.method === 'string' &&
    typeof options.headers === 'object' && 'socket' in options;
}

export function expressIdempotency(options) {
  if (looksLikeARequest(options)) {
    throw new IdempotencyError('invalid-option',
      'expressIdempotency is a factory: mount app.use(expressIdempotency({ store })), not app.use(expressIdempotency)', { option: 'options' });
  }
  const engine = createEngine(options);
  const limit = engine.maxRequestBytes;

  function proceed(claim, req, res, next) {
    if (claim.verdict !== null) return sendAnswer(res, claim);
    capture(res, engine, claim);
    next();
  }

  function claimed(key, claimant, req, res, next) {
    const claim = engine.claim(key, claimant);
    if (isThenable(claim)) claim.then((c) => proceed(c, req, res, next), next);
    else proceed(claim, req, res, next);
  }

  function withBody(key, body, req, res, next) {
    if (body === TOO_LARGE) return sendProblem(res, engine.tooLarge(), true);
    if (!plain) return custom(key, body, req, res, next).catch(next);
    const scope = engine.checkScope(req.headers.authorization);
    claimed(key, engine.claimant(req.method, req.originalUrl ?? req.url, body, scope), req, res, next);
  }

  async function custom(key, body, req, res, next) {
    const scope = engine.checkScope(engine.customScope ? await engine.customScope(req) : req.headers.authorization);
    const claimant = engine.customFingerprint
      ? engine.customClaimant(await engine.customFingerprint(req), scope)
      : engine.claimant(req.method, req.originalUrl ?? req.url, body, scope);
    let claim = engine.claim(key, claimant);
    if (isThenable(claim)) claim = await claim;
    proceed(claim, req, res, next);
  }

  const plain = !engine.customScope && !engine.customFingerprint;

  return function durafetchIdempotency(req, res, next) {
    const header = req.headers[engine.header];
    let parsed;
    let claim;
    let key;
    let body;
    try {
      // The common case, a key and a body parser before this: admission,
      // fingerprint and claim in one step.
      parsed = header !== undefined && plain ? parsedBody(req) : undefined;
      if (parsed !== undefined) {
        claim = engine.admitAndClaim(req.method, header, req.originalUrl ?? req.url, parsed, engine.checkScope(req.headers.authorization));
      } else {
        key = engine.admit(req.method, header);
        if (typeof key === 'string') body = bodyBytes(req, limit);
      }
    } catch (error) {
      return next(error);
    }
    if (parsed !== undefined) {
      if (claim === undefined) return next();
      if (isThenable(claim)) claim.then((c) => proceed(c, req, res, next), next);
      else proceed(claim, req, res, next);
      return undefined;
    }
    if (key === undefined) return next();
    if (typeof key !== 'string') return sendProblem(res, key);
    if (isThenable(body)) body.then((b) => withBody(key, b, req, res, next)).catch(next);
    else withBody(key, body, req, res, next);
    return undefined;
  };
}
