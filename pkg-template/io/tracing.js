// OpenTelemetry spans for durafetch's attempts, when createClient gets a
// `tracer` (what `trace.getTracer(name)` returns; loaded only then). One span
// of kind CLIENT per attempt on the wire, named by its method, with the stable
// HTTP client attributes and `http.request.resend_count` on resends; the
// request carries that span's W3C `traceparent`. It calls the Tracer and Span
// interfaces and imports nothing of @opentelemetry.

const CLIENT = 2; // SpanKind.CLIENT
const ERROR = 2; // SpanStatusCode.ERROR
const METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);
// Query values the semantic conventions say to redact in url.full.
const SECRET_PARAMS = ['AWSAccessKeyId', 'Signature', 'sig', 'X-Goog-Signature'];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// Where @opentelemetry/api keeps its global context manager (api 1.x).
const OTEL_API = Symbol.for('opentelemetry.js.api.1');

/** url.full without credentials or signing secrets. */
function fullUrl(u) {
  const url = new URL(u);
  if (url.username || url.password) [url.username, url.password] = ['REDACTED', 'REDACTED'];
  for (const name of SECRET_PARAMS) if (url.searchParams.has(name)) url.searchParams.set(name, 'REDACTED');
  return url;
}

export class Tracing {
  #spans = new Map();

  /** `activeContext`: the `traceContext` option, else the context the
   *  OpenTelemetry API's global context manager holds, if one is registered. */
  constructor(tracer, activeContext) {
    this.tracer = tracer;
    this.active = activeContext ?? (() => globalThis[OTEL_API]?.context?.active());
  }

  /**
   * Starts attempt `io`'s span and sets its `traceparent` (and `tracestate`)
   * on `headers`; returns the trace context the engine keeps with a stored
   * operation. `parent`: the context active at client.fetch (a live call);
   * `link`: the trace context stored with a resent operation.
   */
  start(io, { method, url, attempt, parent, link }, headers) {
    const u = fullUrl(url);
    const known = METHODS.has(method);
    const attributes = {
      'http.request.method': known ? method : '_OTHER',
      'url.full': u.href,
      'server.address': u.hostname.replace(/^\[|\]$/g, ''),
      'server.port': Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
    };
    if (!known) attributes['http.request.method_original'] = method;
    if (attempt > 1) attributes['http.request.resend_count'] = attempt - 1;
    const options = { kind: CLIENT, attributes };
    const stored = link && TRACEPARENT.exec(link);
    if (stored) options.links = [{ context: { traceId: stored[1], spanId: stored[2], traceFlags: parseInt(stored[3], 16), isRemote: true } }];
    // A resend nobody called here starts its own trace, linked to the first attempt's.
    if (parent === undefined) options.root = true;
    const span = this.tracer.startSpan(known ? method : 'HTTP', options, parent);
    this.#spans.set(io, span);
    const c = span.spanContext();
    const traceparent = `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    headers.set('traceparent', traceparent);
    const state = c.traceState?.serialize?.();
    if (state) headers.set('tracestate', state);
    return traceparent;
  }

  /** Ends attempt `io`'s span with its answer, or what it failed with. */
  end(io, response, error) {
    const span = this.#spans.get(io);
    if (!span) return;
    this.#spans.delete(io);
    let type;
    if (response) {
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) type = String(response.status);
    } else {
      type = error?.name || '_OTHER';
    }
    if (type) {
      span.setAttribute('error.type', type);
      span.setStatus({ code: ERROR, message: error?.message });
    }
    span.end();
  }
}
