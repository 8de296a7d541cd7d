// expressIdempotency(options): the same protocol as Express middleware,
// `app.use(expressIdempotency({ store }))`. Mount it after your body parser
// (express.json(), express.raw(), …): the fingerprint covers `req.body`. If
// no parser ran, it reads the raw body into `req.body` as a Buffer.
// The answer is captured from res.write/res.end and stored before the end
// of the response is sent. Express is not a dependency of this package.
import { createEngine } from './engine.js';
import { REPLAYED_HEADER } from './answers.js';
import { NULL_BODY_STATUSES } from './body.js';

const encoder = new TextEncoder();

function readRaw(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function bodyBytes(req) {
  const body = req.body;
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body !== undefined && body !== null) return encoder.encode(JSON.stringify(body));
  if (req.readableEnded) return new Uint8Array(0);
  const raw = await readRaw(req);
  req.body = raw;
  req._body = true; // body-parser's own "already read" mark: a later parser skips it
  return raw;
}

function sendAnswer(res, claim) {
  const v = claim.verdict;
  if (!v.replayed) {
    res.statusCode = v.status;
    res.setHeader('content-type', 'application/problem+json');
    res.setHeader('cache-control', 'no-store');
    if (v.retryAfter !== undefined) res.setHeader('retry-after', String(v.retryAfter));
    res.end(v.body);
    return;
  }
  res.statusCode = v.status;
  for (const [name, value] of v.headers) res.setHeader(name, value);
  res.setHeader(REPLAYED_HEADER, 'true');
  if (v.bodyOmitted || NULL_BODY_STATUSES.has(v.status)) res.end();
  else {
    const stored = claim.reply.response;
    res.end(Buffer.from(stored.buffer, stored.byteOffset + v.bodyOffset, stored.byteLength - v.bodyOffset));
  }
}

function headerPairs(res) {
  const pairs = [];
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, String(v)]);
    else if (value !== undefined) pairs.push([name, String(value)]);
  }
  return pairs;
}

/** Captures the handler's answer; `done(status, headers, body)` runs before the real end. */
function capture(res, maxBodyBytes, done) {
  const { write, end, writeHead } = res;
  const chunks = [];
  let size = 0;
  const collect = (chunk, encoding) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > maxBodyBytes) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
    size += bytes.byteLength;
    if (size <= maxBodyBytes) chunks.push(bytes);
  };
  res.writeHead = function capturedWriteHead(status, reason, headers) {
    // Headers given here bypass res.getHeaders(): set them so they are seen.
    const given = typeof reason === 'string' ? headers : reason;
    if (given && !Array.isArray(given)) {
      for (const [name, value] of Object.entries(given)) res.setHeader(name, value);
      return typeof reason === 'string' ? writeHead.call(this, status, reason) : writeHead.call(this, status);
    }
    return writeHead.apply(this, arguments);
  };
  res.write = function capturedWrite(chunk, encoding, callback) {
    collect(chunk, encoding);
    return write.call(this, chunk, encoding, callback);
  };
  res.end = function capturedEnd(chunk, encoding, callback) {
    collect(chunk, encoding);
    res.write = write;
    res.end = end;
    res.writeHead = writeHead;
    const body = size > maxBodyBytes ? undefined : Buffer.concat(chunks, size);
    done(res.statusCode, headerPairs(res), body).finally(() => end.call(res, chunk, encoding, callback));
    return res;
  };
}

export function expressIdempotency(options) {
  const engine = createEngine(options);

  async function run(key, req, res, next) {
    const body = await bodyBytes(req);
    const scope = engine.checkScope(engine.customScope ? await engine.customScope(req) : req.headers.authorization);
    const fingerprint = engine.customFingerprint
      ? engine.customFingerprintOf(await engine.customFingerprint(req))
      : engine.fingerprint(req.method, req.originalUrl ?? req.url, body);
    const claim = await engine.claim(key, scope, fingerprint);
    if (claim.verdict !== null) return sendAnswer(res, claim);
    capture(res, engine.maxBodyBytes, (status, headers, bytes) => engine.finish(claim, status, headers, bytes));
    next();
  }

  return function durafetchIdempotency(req, res, next) {
    const key = engine.admit(req.method, req.headers[engine.header]);
    if (key === undefined) return next();
    if (typeof key !== 'string') return sendAnswer(res, { verdict: key });
    run(key, req, res, next).catch(next);
  };
}
