// toNodeListener(handler): a fetch handler, (Request) => Response, as a
// Node `http.createServer` listener. The request body is read whole (the
// idempotency layer needs its bytes anyway); the response is streamed.
import { handOff, handedOff } from './handoff.js';

function requestOf(req) {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].charCodeAt(0) !== 58) headers.append(raw[i], raw[i + 1]); // skip HTTP/2 ":path" and friends
  }
  const scheme = req.socket?.encrypted ? 'https' : 'http';
  const url = new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`);
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return Promise.resolve(new Request(url, { method, headers }));
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      resolve(handOff(new Request(url, { method, headers, body: body.byteLength > 0 ? body : null }), bytes));
    });
    req.on('error', reject);
  });
}

async function writeResponse(res, response) {
  const headers = {};
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers[name] = value;
  }
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) { res.end(); return; }
  const buffered = handedOff(response);
  if (buffered !== undefined) { res.end(buffered); return; }
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
 * the client gets a 500 if nothing was sent yet.
 */
export function toNodeListener(handler, { onError = (error) => console.error(error) } = {}) {
  if (typeof handler !== 'function') throw new TypeError('toNodeListener(handler): handler must be a function (request) => Response');
  return function nodeListener(req, res) {
    requestOf(req)
      .then((request) => handler(request))
      .then((response) => writeResponse(res, response))
      .catch((error) => {
        onError(error, req);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error');
        else res.destroy();
      });
  };
}
