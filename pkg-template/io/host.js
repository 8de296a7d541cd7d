// The host of the wasm core: it reports facts to the engine (each as bytes:
// a call, an answer, a store's completion, the timer) and performs what the
// engine answers (fetch, the store, Web Locks, the timer, the callers'
// promises, the listeners). It decides nothing. What the engine must not
// hold (callers' promises, responses, exceptions, listings) is kept here
// under the engine's ids until the engine hands it on or drops it.
import { Encoder } from '../codec.js';
import {
  BREAKER_STATES, ERROR_KINDS, GIVE_UP_REASONS, QUEUE_REASONS, RETRY_REASONS, STORE_ACTIONS,
  EVENT_BREAKER, EVENT_GIVEUP, EVENT_QUEUED, EVENT_RETRY, EVENT_SETTLED, EVENT_STORE,
  IN_ANSWERED, IN_FAILED, IN_GOT, IN_HEARD, IN_LISTED, IN_LOCKED, IN_QUARANTINED, IN_SYNC_REGISTERED,
  IN_TIMER, IN_TRACED, IN_WROTE, OUT_ANNOUNCE, OUT_CANCEL, OUT_CLOSE_STORE, OUT_DELETE, OUT_DRAINED, OUT_EMIT, OUT_GET,
  OUT_KEEP, OUT_KEPT, OUT_LIST, OUT_LOCK, OUT_PENDING, OUT_FLUSH, OUT_PUT, OUT_QUARANTINE, OUT_REGISTER_SYNC, OUT_REJECT,
  OUT_RELEASE, OUT_RESOLVE, OUT_RESUMED, OUT_SEND, OUT_STARTED, OUT_TIMER, OUT_UNLOCK,
} from '../contract.js';
import { DurafetchError, causeText, unreadable } from '../errors.js';
import { openChannel } from './channel.js';
import { keptForm, keptResponse } from './kept.js';
import { acquire, release } from './locks.js';
import { registerSync } from './sync.js';
import { discard } from './request.js';

const MAX_TIMER_MS = 2_147_483_647;

/** Sets `obj[name]` only when `value` is defined (absent fields stay absent). */
function opt(obj, name, value) {
  if (value !== undefined) obj[name] = value;
  return obj;
}

export class Host {
  /** The client's Core (core.js), once made. */
  core = null;
  /** Callers waiting: id -> { resolve, reject, request?, unlisten? }. */
  calls = new Map();
  /** How many waits the last resume() ended. */
  resumed = 0;
  /** What 'store' 'selected' says: { store, persistent, note? }. */
  storeInfo = null;
  /** Spans for attempts (io/tracing.js), when the client was given a tracer. */
  tracing = null;
  #enc = new Encoder();
  #payloads = new Map();
  #sending = new Map();
  #resolveClosed;
  /** Resolves once the engine has closed the store: everything the client
   *  started has been written (or has failed). */
  storeClosed = new Promise((resolve) => {
    this.#resolveClosed = resolve;
  });
  #timer;
  #timerAt = 0;
  /** Kept answers read for a caller of result(key), by key. */
  #channel = null;

  constructor({ store, fetch, beforeReplay, emit, shared }) {
    this.store = store;
    this.fetchFn = fetch ?? globalThis.fetch;
    this.beforeReplay = beforeReplay;
    this.emitEvent = emit;
    if (shared) this.#channel = openChannel((note) => this.heard(note));
  }

  // ---- into the core ---------------------------------------------------

  /** An input for the core: its op and the clocks written; add the fields, then `run` it. */
  input(op) {
    return this.#enc.start(op);
  }

  /** Hands the input to the core and performs what it answers. A refused
   *  argument throws 'invalid-option' (its value looked up in `args`). */
  run(enc, args) {
    const d = this.core.input(enc, args);
    while (d.more()) this.perform(d.u8(), d);
  }

  /** Whether the other tabs and workers of the origin hear this client (a channel beside a shared store). */
  get shared() {
    return this.#channel !== null;
  }

  /** Another context's news, as its engine wrote it (the engine reads it). */
  heard(note) {
    if (this.core && note instanceof Uint8Array) this.run(this.input(IN_HEARD).bytes(note));
  }

  tell(note) {
    try {
      this.#channel?.postMessage(note);
    } catch {
      // Closed: the others read the store on their own.
    }
  }

  #hold(io, payload) {
    this.#payloads.set(io, payload);
  }

  #take(io) {
    const payload = this.#payloads.get(io);
    this.#payloads.delete(io);
    return payload;
  }

  #end(id) {
    const call = this.calls.get(id);
    this.calls.delete(id);
    call?.unlisten?.();
    return call;
  }

  // ---- what the core asks ----------------------------------------------

  perform(op, d) {
    switch (op) {
      case OUT_TIMER: return this.timer(d.f64());
      case OUT_SEND: {
        const io = d.u32();
        const key = d.optStr() ?? null;
        d.f64(); // the attempt's timeout: the engine cancels it itself
        const attempt = d.u32();
        const resumed = d.bool();
        const id = d.u32();
        let record;
        if (!id) {
          record = { method: d.str(), url: d.str(), headers: [] };
          for (let n = d.u32(); n > 0; n--) record.headers.push([d.str(), d.str()]);
          record.body = d.u8() ? d.bytes() : null;
          record.trace = d.optStr();
        }
        const call = this.calls.get(id);
        const { method, url } = record ?? call.request;
        this.emitEvent('attempt', { key, method, url, attempt, resumed });
        const trace = this.tracing && { io, method, url, attempt, parent: call?.traceContext, link: record?.trace };
        return this.#send(io, record ? this.#replay(record, key, trace) : this.#live(call, key, trace));
      }
      // Abort the fetch; its end (an AbortError, or an answer that was
      // already on its way) is reported like any other: until then the
      // engine sends nothing else under its key.
      case OUT_CANCEL: return this.#sending.get(d.u32())?.abort();
      case OUT_RESOLVE: {
        const id = d.u32();
        const io = d.u32();
        const last = d.bool();
        const response = last ? this.#take(io) : this.#payloads.get(io).clone();
        return this.#end(id)?.resolve(response);
      }
      case OUT_REJECT: {
        const call = this.#end(d.u32());
        return call?.reject(this.failure(d, call));
      }
      case OUT_RELEASE: {
        const payload = this.#take(d.u32());
        return payload instanceof Response && discard(payload);
      }
      case OUT_EMIT: return this.#emit(d);
      case OUT_GET: return this.#get(d.u32(), d.str());
      case OUT_PUT: {
        const io = d.u32();
        return this.wrote(io, this.store.put({ key: d.str(), data: d.bytes() }));
      }
      case OUT_DELETE: {
        const io = d.u32();
        return this.wrote(io, this.store.delete(d.str()));
      }
      case OUT_LIST: return this.#list(d.u32());
      case OUT_QUARANTINE: {
        const io = d.u32();
        const value = this.#payloads.get(d.u32())?.[d.u32()];
        const done = (ok, moved) => this.run(this.input(IN_QUARANTINED).u32(io).bool(ok).bool(moved));
        return this.store.quarantine(value, unreadable(d.u8())).then((moved) => done(true, moved), (error) => {
          this.#hold(io, error);
          done(false, false);
        });
      }
      case OUT_LOCK: {
        const io = d.u32();
        const wait = d.bool();
        return acquire(lockName(d), wait).then((granted) => this.run(this.input(IN_LOCKED).u32(io).bool(granted)));
      }
      case OUT_UNLOCK: return release(lockName(d));
      case OUT_PENDING: {
        const id = d.u32();
        const ops = [];
        for (let n = d.u32(); n > 0; n--) {
          const op = { key: d.str(), method: d.str(), url: d.str(), attempts: d.u32(), createdAt: d.f64() };
          if (d.u8()) op.nextAttemptAt = d.f64();
          op.durable = d.bool();
          ops.push(op);
        }
        return this.#end(id)?.resolve(ops);
      }
      case OUT_STARTED: return this.#end(d.u32())?.resolve();
      case OUT_FLUSH: return this.store.flush?.();
      case OUT_CLOSE_STORE:
        this.store.close();
        this.#channel?.close();
        return this.#resolveClosed();
      case OUT_KEEP: {
        const io = d.u32();
        const key = d.str();
        const data = d.bytes();
        const status = d.u32();
        const attempts = d.u32();
        const kept = keptForm(this.#take(d.u32()), status).then((response) => this.store.put({ key, data, response }));
        return this.wrote(io, kept);
      }
      case OUT_KEPT: {
        const call = this.#end(d.u32());
        let value = null;
        if (d.u8() === 1) {
          const io = d.u32();
          value = d.bool() ? this.#take(io) : this.#payloads.get(io);
        }
        try {
          return call?.resolve(value ? keptResponse(value.response) : null);
        } catch (error) {
          return call?.reject(error);
        }
      }
      case OUT_RESUMED:
        this.resumed = d.u32();
        return undefined;
      case OUT_DRAINED: {
        const call = this.#end(d.u32());
        return call?.resolve({ settled: d.u32(), remaining: d.u32(), retry: d.bool() });
      }
      case OUT_REGISTER_SYNC:
        return registerSync().then((ok) => this.run(this.input(IN_SYNC_REGISTERED).bool(ok)));
      case OUT_ANNOUNCE: return this.tell(d.bytes());
      default:
        throw new Error(`durafetch: the core asked for action ${op}, which this build does not perform`);
    }
  }

  /** The fields of a DurafetchError, as the core wrote them (actions.rs). */
  failure(d, call) {
    const kind = ERROR_KINDS[d.u8()];
    const details = { key: d.optStr() ?? null, attempts: d.u32() };
    opt(details, 'method', call?.request?.method);
    opt(details, 'url', call?.request?.url);
    const reason = d.optU32();
    opt(details, 'reason', QUEUE_REASONS[reason]);
    opt(details, 'status', d.optU32());
    const cause = d.u8();
    if (cause === 1) details.cause = this.#take(d.u32());
    else if (cause === 2) details.cause = call?.request?.signal?.reason;
    else if (cause === 3) details.cause = causeText(d.u8(), d.optU32());
    opt(details, 'origin', d.optStr());
    if (d.u8()) details.retryAfterMs = d.f64();
    opt(details, 'action', STORE_ACTIONS[d.optU32()]);
    const sent = d.optU32();
    if (sent !== undefined) details.sent = sent === 1;
    return new DurafetchError(kind, details);
  }

  #emit(d) {
    const type = d.u8();
    let name;
    let e;
    switch (type) {
      case EVENT_RETRY:
        name = 'retry';
        e = { key: d.optStr() ?? null, attempt: d.u32(), delayMs: d.f64(), reason: RETRY_REASONS[d.u8()] };
        opt(e, 'status', d.optU32()).resumed = d.bool();
        break;
      case EVENT_GIVEUP:
        name = 'giveup';
        e = opt({ key: d.optStr() ?? null, reason: GIVE_UP_REASONS[d.u8()], attempts: d.u32() }, 'status', d.optU32());
        break;
      case EVENT_BREAKER:
        [name, e] = ['breaker', { origin: d.str(), state: BREAKER_STATES[d.u8()] }];
        break;
      case EVENT_SETTLED:
        name = 'settled';
        e = { key: d.optStr() ?? null, status: d.u32(), attempts: d.u32(), resumed: d.bool() };
        if (d.u8()) {
          const io = d.u32();
          e.response = d.bool() ? this.#take(io) : this.#payloads.get(io).clone();
        }
        break;
      case EVENT_QUEUED:
        name = 'queued';
        e = opt({ key: d.str(), reason: QUEUE_REASONS[d.u8()], attempts: d.u32() }, 'status', d.optU32());
        break;
      case EVENT_STORE:
        name = 'store';
        switch (d.u8()) {
          case 0: e = { type: 'error', error: this.failure(d) }; break;
          case 1: e = { type: 'quarantined', key: d.str(), reason: unreadable(d.u8()), moved: d.bool() }; break;
          default: e = { type: 'selected', ...this.storeInfo };
        }
        break;
      default:
        [name, e] = this.event(type, d);
    }
    this.emitEvent(name, e);
  }

  /** An event of a type this build does not know (the workflow host adds its own). */
  event(type) {
    throw new Error(`durafetch: the core emitted event ${type}, which this build does not read`);
  }

  // ---- attempts --------------------------------------------------------

  #send(io, started) {
    const own = new AbortController();
    this.#sending.set(io, own);
    started(own.signal).then(
      (response) => {
        this.#sending.delete(io);
        if (!(response instanceof Response)) return this.#failed(io, new TypeError('fetch did not return a Response'), false);
        this.tracing?.end(io, response);
        this.#hold(io, response);
        this.run(this.input(IN_ANSWERED).u32(io).u32(response.status).optStr(response.headers.get('retry-after') ?? undefined));
      },
      (error) => {
        this.#sending.delete(io);
        this.#failed(io, error?.beforeReplay ? error.cause : error, !!error?.beforeReplay);
      },
    );
  }

  #failed(io, error, beforeReplay) {
    this.tracing?.end(io, undefined, error);
    this.#hold(io, error);
    const enc = this.input(IN_FAILED).u32(io).bool(beforeReplay);
    // A fact for the engine: the platform may know it is offline before its 'offline' event.
    if (!beforeReplay) enc.bool(globalThis.navigator?.onLine === false);
    this.run(enc);
  }

  #fetch(input, init) {
    try {
      return Promise.resolve(this.fetchFn.call(globalThis, input, init));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The caller's request. Its own signal is not passed: its abort reaches
   *  the engine, which cancels the attempt through ours. */
  #live(call, key, trace) {
    return (signal) => {
      const request = call.request;
      if (key !== null) (request.headers ??= new Headers()).set(this.keyHeader, key);
      if (trace) this.#traced(trace, (request.headers ??= new Headers()));
      const init = { method: request.method, signal };
      if (request.headers) init.headers = request.headers;
      if (request.body) init.body = request.body;
      return this.#fetch(request.input, init);
    };
  }

  /** A stored operation, rebuilt. Redacted headers were never stored:
   *  `beforeReplay(request)` may put them back or return another Request;
   *  the key header is set last so a hook cannot drop it. */
  #replay(record, key, trace) {
    return async (signal) => {
      let base = new Request(record.url, { method: record.method, headers: record.headers });
      if (this.beforeReplay) {
        try {
          const replaced = await this.beforeReplay(base);
          if (replaced instanceof Request) base = replaced;
        } catch (cause) {
          throw { beforeReplay: true, cause };
        }
      }
      const headers = new Headers(base.headers);
      if (key !== null) headers.set(this.keyHeader, key);
      if (trace) this.#traced(trace, headers);
      return this.#fetch(base, { headers, body: record.body ?? undefined, signal });
    };
  }

  /** The attempt's span starts as it is sent; the engine keeps its trace
   *  context with the stored operation, for a later page's resend to link to. */
  #traced(trace, headers) {
    this.run(this.input(IN_TRACED).u32(trace.io).str(this.tracing.start(trace.io, trace, headers)));
  }

  // ---- store and locks -------------------------------------------------

  /** A stored value as the core reads it: its bytes and its key. */
  #stored(enc, value) {
    if (value == null) return enc.u8(0);
    this.read(value);
    const key = typeof value.key === 'string' ? value.key : undefined;
    return value.data instanceof Uint8Array ? enc.u8(1).bytes(value.data).optStr(key) : enc.u8(2).optStr(key);
  }

  /** A value read back, listed or got (the workflow host watches runs in them). */
  read(value) {}

  #get(io, key) {
    this.store.get(key).then(
      (value) => {
        // A kept answer (it has a response) is held under the read until the
        // core hands it to its reader or drops it.
        if (value?.response !== undefined) this.#hold(io, value);
        this.run(this.#stored(this.input(IN_GOT).u32(io).bool(true), value));
      },
      (error) => {
        this.#hold(io, error);
        this.run(this.input(IN_GOT).u32(io).bool(false));
      },
    );
  }

  /** A store write's end, to the core. */
  wrote(io, written) {
    written.then(
      () => this.run(this.input(IN_WROTE).u32(io).bool(true)),
      (error) => {
        this.#hold(io, error);
        this.run(this.input(IN_WROTE).u32(io).bool(false));
      },
    );
  }

  #list(io) {
    this.store.list().then(
      (values) => {
        this.#hold(io, values);
        const enc = this.input(IN_LISTED).u32(io).bool(true).u32(values.length);
        for (const value of values) this.#stored(enc, value);
        this.run(enc);
      },
      (error) => {
        this.#hold(io, error);
        this.run(this.input(IN_LISTED).u32(io).bool(false));
      },
    );
  }

  // ---- time ------------------------------------------------------------

  /** One timer for the whole client, at the engine's next wake-up
   *  (monotonic ms; -1: none). An earlier timer already set is kept (waking
   *  early is harmless: the engine sets the next one), and one no longer
   *  needed is only let go of (unref, in Node and Deno), so a call that
   *  starts and ends costs no timer work. Clamped: past 2^31-1 ms
   *  setTimeout fires at once. */
  timer(at) {
    if (at < 0) return this.#keepAlive(false);
    if (this.#timer !== undefined && this.#timerAt <= at) return this.#keepAlive(true);
    clearTimeout(this.#timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - performance.now())));
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.run(this.input(IN_TIMER));
    }, delay);
  }

  /** Whether the pending timer keeps a Node or Deno process alive. */
  #keepAlive(needed) {
    const timer = this.#timer;
    if (timer === undefined) return;
    if (typeof timer === 'object') needed ? timer.ref?.() : timer.unref?.();
    else if (globalThis.Deno) needed ? globalThis.Deno.refTimer?.(timer) : globalThis.Deno.unrefTimer?.(timer);
  }
}

/** A lock's name: the drain round's, an operation's (or a run's) key, or an origin's probe. */
function lockName(d) {
  const tag = d.u8();
  return tag ? `durafetch:${tag === 1 ? 'key' : 'probe'}:${d.str()}` : 'durafetch:drain';
}
