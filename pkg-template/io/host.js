// The I/O the wasm executor (src/shell) performs the engine's actions with.
// Each method starts one piece of I/O and returns; its completion goes back
// into the core, stamped with both clocks. What the engine must not hold
// (callers' promises, responses, exceptions, listings) is kept here under
// the engine's ids until the engine hands it on or drops it.
import { RunEvent } from '../core.js';
import { DurafetchError, fromCore } from '../errors.js';
import { openChannel } from './channel.js';
import { keptForm, keptMeta, keptResponse } from './kept.js';
import { acquire, release } from './locks.js';
import { discard } from './request.js';
import { journalOf } from './runs.js';

const MAX_TIMER_MS = 2_147_483_647;
const now = () => [Date.now(), performance.now()];

/** A UUID v4 from the platform CSPRNG; crypto.randomUUID where it exists. */
function newKey() {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Host {
  /** Set once the core is started. */
  core = null;
  /** Callers waiting: id -> { resolve, reject, request?, unlisten? }. */
  calls = new Map();
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
  /** Kept results read for a caller of result(key), by key. */
  #kept = new Map();
  /** Workflow runs (io/runs.js), once the client sets them. */
  runs = null;
  #channel = null;

  constructor({ store, fetch, beforeReplay, keyHeader, emit, shared }) {
    this.store = store;
    this.fetchFn = fetch ?? globalThis.fetch;
    this.beforeReplay = beforeReplay;
    this.keyHeader = keyHeader;
    this.emitEvent = emit;
    if (shared) this.#channel = openChannel((note) => this.#heard(note));
  }

  /** Another context of the store settled an operation or wrote a run. */
  #heard(note) {
    if (!this.core || note === null || typeof note !== 'object') return;
    if (typeof note.settled === 'string') this.core.runEvent(RunEvent.RemoteSettled, note.attempts >>> 0, note.settled, note.status >>> 0, undefined, false, ...now());
    else if (typeof note.run === 'string') this.core.runEvent(RunEvent.Changed, 0, note.run, 0, undefined, false, ...now());
  }

  #tell(note) {
    try {
      this.#channel?.postMessage(note);
    } catch {
      // Closed: the others read the store on their own.
    }
  }

  #fail(io, error) {
    this.#payloads.set(io, error);
  }

  #take(io) {
    const payload = this.#payloads.get(io);
    this.#payloads.delete(io);
    return payload;
  }

  /** The core's failure object, its cause filled in from what we hold. */
  error(failure, call) {
    if (failure.causeIo !== undefined) failure.cause = this.#take(failure.causeIo);
    if (failure.causeSignal) failure.cause = call?.request?.signal?.reason;
    delete failure.causeIo;
    delete failure.causeSignal;
    return fromCore(failure);
  }

  #end(id) {
    const call = this.calls.get(id);
    this.calls.delete(id);
    call?.unlisten?.();
    return call;
  }

  // ---- attempts --------------------------------------------------------

  send(io, id, record, key) {
    const own = new AbortController();
    this.#sending.set(io, own);
    const started = id ? this.#live(this.calls.get(id), key, own) : this.#replay(record, key, own);
    started.then(
      (response) => {
        if (!this.#sending.delete(io)) return response instanceof Response && discard(response);
        if (!(response instanceof Response)) return this.#failed(io, new TypeError('fetch did not return a Response'), false);
        this.#payloads.set(io, response);
        // Retry-After matters only on an answer that may be retried.
        const retryAfter = response.ok ? undefined : response.headers.get('retry-after') ?? undefined;
        this.core.answered(io, response.status, retryAfter, Date.now(), performance.now());
      },
      (error) => {
        if (!this.#sending.delete(io)) return;
        this.#failed(io, error?.beforeReplay ? error.cause : error, !!error?.beforeReplay);
      },
    );
  }

  #failed(io, error, beforeReplay) {
    this.#payloads.set(io, error);
    // The platform knows it is offline before its 'offline' event arrives.
    if (globalThis.navigator?.onLine === false && this.core.isOnline()) this.core.offline(...now());
    this.core.failed(io, beforeReplay, ...now());
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
  #live(call, key, own) {
    const request = call.request;
    if (key != null) (request.headers ??= new Headers()).set(this.keyHeader, key);
    const init = { method: request.method, signal: own.signal };
    if (request.headers) init.headers = request.headers;
    if (request.body) init.body = request.body;
    return this.#fetch(request.input, init);
  }

  /** A stored operation, rebuilt. Redacted headers were never stored:
   *  `beforeReplay(request)` may put them back or return another Request;
   *  the key header is set last so a hook cannot drop it. */
  async #replay(record, key, own) {
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
    if (key != null) headers.set(this.keyHeader, key);
    return this.#fetch(base, { headers, body: record.body ?? undefined, signal: own.signal });
  }

  cancel(io) {
    const own = this.#sending.get(io);
    this.#sending.delete(io);
    own?.abort();
  }

  // ---- callers ---------------------------------------------------------

  resolve(id, io, last) {
    const response = last ? this.#take(io) : this.#payloads.get(io);
    const call = this.#end(id);
    call?.resolve(last ? response : response.clone());
  }

  reject(id, failure) {
    const call = this.#end(id);
    const error = this.error(failure, call);
    call?.reject(error);
  }

  release(io) {
    const payload = this.#take(io);
    if (payload instanceof Response) discard(payload);
  }

  answer(id, value) {
    this.#end(id)?.resolve(value);
  }

  emit(type, payload) {
    if (payload.responseIo !== undefined) {
      const response = payload.responseLast ? this.#take(payload.responseIo) : this.#payloads.get(payload.responseIo).clone();
      payload.response = response;
      delete payload.responseIo;
      delete payload.responseLast;
    }
    if (payload.error) payload.error = this.error(payload.error);
    this.emitEvent(type, payload);
  }

  // ---- store and locks -------------------------------------------------

  get(io, key) {
    this.store.get(key).then(
      (value) => {
        // The core reads a run's journal; its values stay here.
        if (value?.kind === 'run' && this.runs) {
          this.runs.values.set(value.id, value);
          value = journalOf(value);
        } else if (value?.kind === 'result') {
          // Read for result(key) (taken by kept()), or by a resend that found
          // it settled already: only the latest few are held.
          if (this.#kept.size >= 64) this.#kept.delete(this.#kept.keys().next().value);
          this.#kept.set(key, value);
          value = keptMeta(value);
        }
        this.core.got(io, value, true, ...now());
      },
      (error) => {
        this.#fail(io, error);
        this.core.got(io, undefined, false, ...now());
      },
    );
  }

  /** A store write's end, to the core; once it committed, `note` tells the other contexts. */
  #wrote(io, written, note) {
    written.then(
      () => {
        this.core.wrote(io, true, ...now());
        if (note) this.#tell(note);
      },
      (error) => {
        this.#fail(io, error);
        this.core.wrote(io, false, ...now());
      },
    );
  }

  put(io, record) {
    this.#wrote(io, this.store.put(record));
  }

  delete(io, key) {
    this.#wrote(io, this.store.delete(key));
  }

  list(io) {
    this.store.list().then(
      (values) => {
        this.#payloads.set(io, values);
        const read = values.map((v) => (v?.kind === 'run' ? journalOf(v) : v?.kind === 'result' ? keptMeta(v) : v));
        this.core.listed(io, read, true, ...now());
      },
      (error) => {
        this.#fail(io, error);
        this.core.listed(io, undefined, false, ...now());
      },
    );
  }

  quarantine(io, listing, index, reason) {
    const value = this.#payloads.get(listing)?.[index];
    this.store.quarantine(value, reason).then(
      (moved) => this.core.quarantined(io, moved, true, ...now()),
      (error) => {
        this.#fail(io, error);
        this.core.quarantined(io, false, false, ...now());
      },
    );
  }

  lock(io, name, wait) {
    acquire(`durafetch:${name}`, wait).then((granted) => this.core.locked(io, granted, ...now()));
  }

  unlock(name) {
    release(`durafetch:${name}`);
  }

  closeStore() {
    this.store.close();
    this.#channel?.close();
    this.#resolveClosed();
  }

  // ---- kept results and workflow runs -----------------------------------

  keep(io, key, status, attempts, responseIo) {
    const kept = keptForm(this.#take(responseIo), key, status).then((value) => this.store.put(value));
    this.#wrote(io, kept, { settled: key, status, attempts });
  }

  kept(id, key) {
    const value = key == null ? undefined : this.#kept.get(key);
    this.#kept.delete(key);
    const call = this.#end(id);
    try {
      call?.resolve(value ? keptResponse(value) : null);
    } catch (error) {
      call?.reject(error);
    }
  }

  putRun(io, id, journal) {
    this.#wrote(io, this.store.put(this.runs.merged(id, journal)), { run: id });
  }

  execute(id) {
    this.runs.execute(id);
  }

  stepGo(id, index, go, key) {
    this.runs.stepGo(id, index, go, key);
  }

  stepCommitted(id, index) {
    this.runs.stepCommitted(id, index);
  }

  undo(id, index, key) {
    this.runs.undo(id, index, key);
  }

  /** start() (outcome null: the run exists) or run.result(). */
  runAnswer(id, runId, outcome) {
    const call = this.#end(id);
    if (!outcome) return call?.resolve(runId);
    const { value, error } = this.runs.outcome(runId, outcome);
    if (error) call?.reject(error);
    else call?.resolve(value);
  }

  // ---- time and keys ---------------------------------------------------

  /** One timer for the whole client, at the engine's next wake-up
   *  (monotonic ms; -1: none). An earlier timer already set is kept (waking
   *  early is harmless: the engine sets the next one), and one no longer
   *  needed is only let go of (unref, in Node and Deno), so a call that
   *  starts and ends costs no timer work. Clamped: past 2^31-1 ms
   *  setTimeout fires at once. */
  timer(at) {
    if (at < 0) return this.#hold(false);
    if (this.#timer !== undefined && this.#timerAt <= at) return this.#hold(true);
    clearTimeout(this.#timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - performance.now())));
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.core.timer(Date.now(), performance.now());
    }, delay);
  }

  /** Whether the pending timer keeps a Node or Deno process alive. */
  #hold(needed) {
    const timer = this.#timer;
    if (timer === undefined) return;
    if (typeof timer === 'object') needed ? timer.ref?.() : timer.unref?.();
    else if (globalThis.Deno) needed ? globalThis.Deno.refTimer?.(timer) : globalThis.Deno.unrefTimer?.(timer);
  }

  newKey() {
    return newKey();
  }
}

export { DurafetchError };
