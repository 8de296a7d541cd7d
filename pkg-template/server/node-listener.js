// toNodeListener(handler): a fetch handler, (Request) => Response, as a
// Node `http.createServer` listener. The request body is read whole (the
// idempotency layer needs its bytes anyway), up to maxRequestBytes: past it
// the request is answered 413 and the rest is not read (the connection is
// closed after the answer). The response is streamed.
import { handOff } from './handoff.js';
import { HeldResponse } from './held-response.js';
import { declaredLength } from './request-body.js';
import { requestTooLarge } from './server.js';

const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

class TooLarge extends Error {}

function requestOf(req, limit) {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].charCodeAt(0) !== 58) headers.append(raw[i], raw[i + 1]); // skip HTTP/2 ":path" and friends
  }
  const scheme = req.socket?.encrypted ? 'https' : 'http';
  const url = new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`);
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return Promise.resolve(new Request(url, { method, headers }));
  if ((declaredLength(req.headers['content-length']) ?? 0) > limit) return Promise.reject(new TooLarge());
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      size += chunk.byteLength;
      if (size > limit) {
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        req.pause();
        reject(new TooLarge());
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      resolve(handOff(new Request(url, { method, headers, body: body.byteLength > 0 ? body : null }), bytes));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

function answerTooLarge(res) {
  const { status, body } = requestTooLarge();
  // `connection: close`: Node ends the connection after this answer instead
  // of reading the rest of the body to reuse it.
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', connection: 'close' });
  res.end(body);
}

async function writeResponse(res, response) {
  const headers = {};
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers[name] = value;
  }
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  const held = response instanceof HeldResponse ? response.heldBytes() : undefined;
  if (held !== undefined) { res.end(held); return; }
  if (response.body === null) { res.end(); return; }
  const reader = response.body.getReader();
  res.on('close', () => { if (!res.writableFinished) reader.cancel().catch(() => {}); });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    if (res.destroyed) return;
  }
  res.end();
}

/**
 * `onError(error, req)` sees what the handler threw (default: console.error);
 * the client gets a 500 if nothing was sent yet. `maxRequestBytes`: the
 * largest request body read (default: the wrapped idempotent() handler's
 * own, else 1 MiB).
 */
export function toNodeListener(handler, { onError = (error) => console.error(error), maxRequestBytes } = {}) {
  if (typeof handler !== 'function') throw new TypeError('toNodeListener(handler): handler must be a function (request) => Response');
  const limit = maxRequestBytes ?? handler.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new TypeError(`toNodeListener(handler, { maxRequestBytes }): a non-negative integer number of bytes, got ${limit}`);
  }
  return function nodeListener(req, res) {
    requestOf(req, limit)
      .then((request) => handler(request))
      .then((response) => writeResponse(res, response))
      .catch((error) => {
        if (error instanceof TooLarge) return answerTooLarge(res);
        onError(error, req);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error');
        else res.destroy();
      });
  };
}
