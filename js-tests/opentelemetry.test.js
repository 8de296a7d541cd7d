// OpenTelemetry spans per attempt, with the real SDK (@opentelemetry/sdk-trace-base
// and its in-memory exporter) against a real HTTP server on 127.0.0.1.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createClient } from 'durafetch';
import { startTestServer, until } from './scripted-server.js';

const CLIENT = 2; // SpanKind.CLIENT
const ERROR = 2; // SpanStatusCode.ERROR

let server;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('durafetch-test');
before(async () => {
  server = await startTestServer();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
after(async () => {
  context.disable();
  await server.close();
});
afterEach(() => exporter.reset());

const fast = { baseDelayMs: 5, maxDelayMs: 20, seed: 2, tracer };
const traceparent = (span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
const attemptSpans = () => exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'durafetch-test' && s.name !== 'checkout');

/** A store two clients share, as two pages share IndexedDB. */
function sharedStore() {
  const records = new Map();
  return {
    get: (key) => records.get(key),
    put: (record) => void records.set(record.key, record),
    delete: (key) => void records.delete(key),
    list: () => [...records.values()],
  };
}

test('a POST whose first answer is dropped: two CLIENT spans, resend_count absent then 1, one key, each request carries its span', async () => {
  const url = server.script('/otel-drop', ['drop', 201]);
  const client = await createClient(fast);
  const parent = tracer.startSpan('checkout');
  const res = await context.with(trace.setSpan(context.active(), parent), () =>
    client.fetch(url, { method: 'POST', body: '{"amount":42}' }));
  parent.end();
  assert.equal(res.status, 201);
  const spans = attemptSpans();
  const reqs = server.requests('/otel-drop');
  assert.equal(spans.length, 2);
  assert.equal(reqs.length, 2);
  assert.equal(new Set(reqs.map((r) => r.key)).size, 1, 'one key on both attempts');
  const port = Number(new URL(url).port);
  for (const [i, span] of spans.entries()) {
    assert.equal(span.name, 'POST');
    assert.equal(span.kind, CLIENT);
    assert.equal(span.attributes['http.request.method'], 'POST');
    assert.equal(span.attributes['url.full'], url);
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], port);
    assert.equal(span.attributes['http.request.resend_count'], i === 0 ? undefined : i);
    assert.equal(reqs[i].headers.traceparent, traceparent(span), `request ${i} carries its own span`);
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId, 'the parent is the context active at fetch');
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
  }
  assert.equal(spans[0].attributes['error.type'], 'TypeError', 'the dropped answer: a network error');
  assert.equal(spans[0].status.code, ERROR);
  assert.equal(spans[1].attributes['http.response.status_code'], 201);
  assert.equal(spans[1].attributes['error.type'], undefined);
  await client.close();
});

test('a status the server refuses with: error.type is the status, the span is an error', async () => {
  const url = server.script('/otel-503', [503, 503, 200]);
  const client = await createClient(fast);
  const res = await client.fetch(url);
  assert.equal(res.status, 200);
  const spans = attemptSpans();
  assert.deepEqual(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['error.type'] ?? null]),
    [['GET', 503, '503'], ['GET', 503, '503'], ['GET', 200, null]]);
  assert.deepEqual(spans.map((s) => s.attributes['http.request.resend_count']), [undefined, 1, 2]);
  await client.close();
});

test('a resend by a later page: resend_count from the stored attempts, a link to the first attempt span, never a stored header', async () => {
  const store = sharedStore();
  const url = server.script('/otel-later', [503, 503, 201]);
  const first = await createClient({ ...fast, store, maxAttempts: 2, redactHeaders: ['x-secret'] });
  await assert.rejects(
    first.fetch(url, { method: 'POST', body: 'order', headers: { 'x-secret': 's3cret' } }),
    (e) => e.kind === 'queued',
  );
  await first.close();
  const [firstAttempt] = attemptSpans();
  exporter.reset();
  const stored = [...store.list()][0];
  assert.ok(!new TextDecoder().decode(stored.data).includes('s3cret'));
  assert.ok(!new TextDecoder().decode(stored.data).includes('traceparent'), 'the trace context is kept, not the header');

  // The next page: its client resends what the first left, on its own.
  const second = await createClient({ ...fast, store });
  const settled = new Promise((resolve) => second.on('settled', resolve));
  assert.equal((await settled).status, 201);
  const [resend] = attemptSpans();
  const reqs = server.requests('/otel-later');
  assert.equal(reqs.length, 3);
  assert.equal(resend.attributes['http.request.resend_count'], 2);
  assert.equal(resend.parentSpanContext, undefined, 'nobody called it here: a trace of its own');
  assert.deepEqual(resend.links.map((l) => [l.context.traceId, l.context.spanId]),
    [[firstAttempt.spanContext().traceId, firstAttempt.spanContext().spanId]]);
  assert.equal(reqs[2].headers.traceparent, traceparent(resend));
  assert.equal(new Set(reqs.map((r) => r.key)).size, 1);
  await second.close();
});

test('traceContext chooses the parent; a signature stays out of url.full', async () => {
  const parent = tracer.startSpan('checkout');
  const ctx = trace.setSpan(context.active(), parent);
  const client = await createClient({ ...fast, traceContext: () => ctx });
  const url = server.script('/otel-parent', [200]);
  const res = await client.fetch(`${url}?sig=abc&q=1`);
  assert.equal(res.status, 200);
  parent.end();
  const [span] = attemptSpans();
  assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
  assert.equal(span.attributes['url.full'], `${url}?sig=REDACTED&q=1`);
  await client.close();
});

test('without a tracer nothing is traced and no traceparent is sent', async () => {
  const url = server.script('/otel-none', [200]);
  const client = await createClient({ baseDelayMs: 5 });
  await client.fetch(url);
  await until(() => server.requests('/otel-none').length === 1);
  assert.equal(server.requests('/otel-none')[0].headers.traceparent, undefined);
  assert.equal(attemptSpans().length, 0);
  await client.close();
});

test('a tracer that is not one is refused, naming the option', async () => {
  await assert.rejects(createClient({ tracer: {} }), (e) => e.kind === 'invalid-option' && e.option === 'tracer');
  await assert.rejects(createClient({ tracer, traceContext: 'now' }), (e) => e.kind === 'invalid-option' && e.option === 'traceContext');
});
