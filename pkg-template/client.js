// The JS face of durafetch: createClient, DurafetchError and events.
// Every decision is made by the engine in the wasm core; io/host.js performs
// them. This file turns calls into the core's inputs.
import { Encoder } from './codec.js';
import {
  EVENT_TYPES, IN_ABORT, IN_CALL, IN_CLOSE, IN_DRAIN, IN_LISTEN, IN_OFFLINE, IN_ONLINE, IN_PENDING, IN_RESULT, IN_RESUME,
  IN_START, IN_VISIBLE,
} from './contract.js';
import { Core } from './core.js';
import { DurafetchError } from './errors.js';
import { Host } from './io/host.js';
import { prepare } from './io/request.js';
import { openStore } from './io/stores.js';
import { hasSyncApi } from './io/sync.js';

export { DurafetchError };

/** Marks a workflow step's request (io/runs.js): the engine waits for its
 *  answer instead of rejecting 'queued'. */
export const FROM_STEP = Symbol('durafetch step');

/** The store the options chose, by the core's number. */
const STORES = ['auto', 'memory', 'indexeddb', 'adapter'];
/** Deeper than any option goes (src/shell/options.rs stops there too). */
const MAX_DEPTH = 4;

function report(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else console.error(error);
}

let pool = new Uint8Array(0);
let used = 0;

/** `n` bytes from the platform CSPRNG (drawn 4 KiB at a time). */
export function random(n) {
  if (used + n > pool.length) {
    try {
      pool = globalThis.crypto.getRandomValues(new Uint8Array(4096));
    } catch {
      throw new DurafetchError('unsupported-runtime', { missing: 'crypto.getRandomValues' });
    }
    used = 0;
  }
  return pool.subarray(used, (used += n));
}

/** Options whose methods are read by name: a class instance (a store
 *  adapter, an OpenTelemetry Tracer) keeps them on its prototype. */
const METHODS = { store: ['get', 'put', 'delete', 'list'], tracer: ['startSpan'] };

/** A JS value as the core reads it (src/shell/options.rs). */
function encodeValue(enc, v, depth, methods) {
  if (v === undefined) return enc.u8(0);
  if (v === null) return enc.u8(1);
  if (typeof v === 'boolean') return enc.u8(v ? 3 : 2);
  if (typeof v === 'number') return enc.u8(4).f64(v);
  if (typeof v === 'string') return enc.u8(5).str(v);
  if (typeof v === 'function') return enc.u8(6);
  if (depth === 0 || typeof v !== 'object' || ArrayBuffer.isView(v)) return enc.u8(9);
  if (Array.isArray(v)) {
    enc.u8(7).u32(v.length);
    for (const item of v) encodeValue(enc, item, depth - 1);
    return enc;
  }
  const names = methods ?? Object.keys(v);
  enc.u8(8).u32(names.length);
  for (const name of names) encodeValue(enc.str(name), v[name], depth - 1, !methods && depth === MAX_DEPTH ? METHODS[name] : undefined);
  return enc;
}

export class DurafetchClient {
  /** The host performing this client's I/O (io/host.js). */
  _host;
  #listeners = new Map();
  #next = 0;
  #unlisten = () => {};

  /** `loadTracing`: the entry's loader of io/tracing.js (used only with a `tracer`). */
  static async create(options, loadTracing) {
    const enc = new Encoder();
    encodeValue(enc, options, MAX_DEPTH);
    const core = new Core(enc, options);
    const opened = await openStore(STORES[core.store], options?.store);
    const client = new this();
    const host = client._newHost(options, {
      store: opened.store,
      fetch: options?.fetch,
      beforeReplay: options?.beforeReplay,
      emit: (type, payload) => client.#emit(type, payload),
      shared: opened.name === 'indexeddb',
    });
    host.core = core;
    host.keyHeader = core.keyHeader;
    host.storeInfo = { store: opened.name, persistent: opened.persistent, ...(opened.note ? { note: opened.note } : {}) };
    // Spans only for those who pass a tracer: its module is fetched then.
    if (options?.tracer) host.tracing = new (await loadTracing()).Tracing(options.tracer, options.traceContext);
    client._host = host;
    client.store = opened.name;
    client.#listenToPlatform();
    // Answered once the client may be used; then, on a later task (after the
    // caller attached its listeners), the engine announces the store and
    // resends what an earlier page left.
    const online = globalThis.navigator?.onLine !== false;
    const start = (id) => host.input(IN_START).u32(id).bool(opened.persistent).bool(online).bool(hasSyncApi()).bool(host.shared);
    await client._ask((id) => host.run(start(id).raw(random(8))));
    return client;
  }

  /** The host for this client (the workflow client's runs workflows too). */
  _newHost(options, parts) {
    return new Host(parts);
  }

  /** The platform's connectivity events, the page going away (queued store
   *  writes go at once: a deferred delete must not be lost with it), and
   *  the page being shown (the engine decides what that resends). */
  #listenToPlatform() {
    const target = globalThis;
    if (typeof target.addEventListener !== 'function') return;
    const host = this._host;
    const doc = target.document;
    const online = () => host.run(host.input(IN_ONLINE));
    const offline = () => host.run(host.input(IN_OFFLINE));
    const hidden = () => host.store.flush?.();
    const shown = () => doc.visibilityState === 'visible' && host.run(host.input(IN_VISIBLE));
    target.addEventListener('online', online);
    target.addEventListener('offline', offline);
    target.addEventListener('pagehide', hidden);
    doc?.addEventListener?.('visibilitychange', shown);
    this.#unlisten = () => {
      target.removeEventListener('online', online);
      target.removeEventListener('offline', offline);
      target.removeEventListener('pagehide', hidden);
      doc?.removeEventListener?.('visibilitychange', shown);
    };
  }

  _id() {
    this.#next = (this.#next % 0xfffffffe) + 1;
    return this.#next;
  }

  #emit(type, payload) {
    const listeners = this.#listeners.get(type);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      // A listener's bug must not break delivery to the others or the call itself.
      try {
        listener(payload);
      } catch (error) {
        report(error);
      }
    }
  }

  /** Same arguments as fetch; resolves with a real Response. */
  fetch(input, init) {
    return new Promise((resolve, reject) => {
      const prepared = prepare(input, init, this._host.keyHeader);
      if (prepared instanceof Promise) prepared.then((request) => this.#call(request, init, resolve, reject), reject);
      else this.#call(prepared, init, resolve, reject);
    });
  }

  #call(request, init, resolve, reject) {
    const host = this._host;
    const id = this._id();
    const call = { resolve, reject, request };
    // The context active now is the parent of this call's attempts' spans
    // (a context getter that throws leaves them without one).
    if (host.tracing) {
      try {
        call.traceContext = host.tracing.active();
      } catch {}
    }
    host.calls.set(id, call);
    const signal = request.signal;
    if (signal) {
      const aborted = () => host.run(host.input(IN_ABORT).u32(id));
      signal.addEventListener('abort', aborted);
      call.unlisten = () => signal.removeEventListener('abort', aborted);
    }
    try {
      const enc = host.input(IN_CALL).u32(id).str(request.method).str(request.url);
      const key = init?.idempotencyKey;
      enc.arg(key, typeof key === 'string', (k) => enc.str(k)).optStr(request.headerKey);
      if (request.body) enc.u8(1).bytes(request.body);
      else enc.u8(0);
      const headers = request.headers ? [...request.headers] : [];
      enc.u32(headers.length);
      for (const [name, value] of headers) enc.str(name).str(value);
      const durable = init?.durable;
      enc.arg(durable, typeof durable === 'boolean', (b) => enc.bool(b)).bool(signal?.aborted === true);
      // A step's request: the step's key and the request's place in the step (io/runs.js).
      const step = init?.[FROM_STEP];
      enc.bool(step !== undefined);
      if (step !== undefined) enc.str(step.key).u32(step.n);
      enc.raw(random(16));
      host.run(enc, init);
    } catch (error) {
      host.calls.delete(id);
      call.unlisten?.();
      reject(error);
    }
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(type, listener) {
    if (!EVENT_TYPES.includes(type)) {
      throw new DurafetchError('invalid-option', {
        option: 'on(type)', expected: EVENT_TYPES.map((t) => `'${t}'`).join(', '), value: type,
      });
    }
    if (typeof listener !== 'function') {
      throw new DurafetchError('invalid-option', { option: 'on(listener)', expected: 'a function', value: listener });
    }
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    this.#updateListening();
    return () => {
      set.delete(listener);
      this.#updateListening();
    };
  }

  // The core builds event payloads only for types someone listens to.
  #updateListening() {
    const mask = EVENT_TYPES.reduce((m, t, i) => (this.#listeners.get(t)?.size ? m | (1 << i) : m), 0);
    this._host.run(this._host.input(IN_LISTEN).u32(mask));
  }

  /** A question for the core (`send(id)` writes it), answered through the host. */
  _ask(send) {
    const id = this._id();
    return new Promise((resolve, reject) => {
      this._host.calls.set(id, { resolve, reject });
      try {
        send(id);
      } catch (error) {
        this._host.calls.delete(id);
        reject(error);
      }
    });
  }

  /** Operations not yet settled: stored records and keyed calls running here. */
  pending() {
    return this._ask((id) => this._host.run(this._host.input(IN_PENDING).u32(id)));
  }

  /** The Response of keyed operation `key` once it settles, even if it settled
   *  in the background or in another tab (kept until read once, up to ttlMs);
   *  null if the store knows no such operation. */
  result(key) {
    const host = this._host;
    return this._ask((id) => {
      const enc = host.input(IN_RESULT).u32(id);
      host.run(enc.arg(key, typeof key === 'string', (k) => enc.str(k)), { 'result(key)': key });
    });
  }

  /** Resends every stored operation once, now (never before a server's
   *  Retry-After, through the breaker); resolves once each has settled or
   *  waits for a later retry: `{ settled, remaining }`. */
  async drain() {
    const { settled, remaining } = await this._drain(0);
    return { settled, remaining };
  }

  /** A drain for `why` (0 drain(), 1 a sync event, 2 one on its last chance):
   *  `retry` says whether the browser should fire the event again. */
  _drain(why) {
    return this._ask((id) => this._host.run(this._host.input(IN_DRAIN).u32(id).u8(why)));
  }

  /** Resends now every operation that is waiting to retry. */
  async resume() {
    this._host.run(this._host.input(IN_RESUME));
    return this._host.resumed;
  }

  /** No new calls; waiting calls end; background resends stop. Resolves
   *  once everything the client started is written to the store (an attempt
   *  already sent may still settle its call first). */
  async close() {
    this.#unlisten();
    this._host.run(this._host.input(IN_CLOSE));
    await this._host.storeClosed;
  }
}

/** Builds createClient around a loader that instantiates the wasm once, and
 *  one that imports the tracing module (a file of its own beside the entry). */
export function makeCreateClient(loadWasm, Client = DurafetchClient, loadTracing) {
  return async function createClient(options) {
    await loadWasm();
    return Client.create(options, loadTracing);
  };
}
