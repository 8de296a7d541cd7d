// The JS face of durafetch: createClient, DurafetchError and events.
// Every decision is made by the engine in the wasm core; io/ performs them.
import { Core, RunEvent } from './core.js';
import { DurafetchError, fromCore } from './errors.js';
import { Host } from './io/host.js';
import { prepare } from './io/request.js';
import { Runs } from './io/runs.js';
import { openStore } from './io/stores.js';

export { DurafetchError };

// In the order of the core's event bits (EventKind in src/core/contract.rs).
const EVENT_TYPES = ['attempt', 'retry', 'giveup', 'breaker', 'settled', 'queued', 'store', 'workflow'];
const now = () => [Date.now(), performance.now()];

function report(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else console.error(error);
}

/** Jitter's seed, from the platform CSPRNG. */
function randomSeed() {
  try {
    return [...globalThis.crypto.getRandomValues(new Uint32Array(2))];
  } catch {
    throw new DurafetchError('unsupported-runtime', { missing: 'crypto.getRandomValues' });
  }
}

class DurafetchClient {
  #core;
  #host;
  #listeners = new Map();
  #next = 0;
  #unlisten = () => {};

  static async create(options) {
    let core;
    try {
      core = new Core(options);
    } catch (thrown) {
      throw fromCore(thrown);
    }
    const [hi, lo] = randomSeed();
    const opened = await openStore(core.storeChoice(), options?.store);
    const client = new DurafetchClient();
    const host = new Host({
      store: opened.store,
      fetch: options?.fetch,
      beforeReplay: options?.beforeReplay,
      keyHeader: core.keyHeader(),
      emit: (type, payload) => client.#emit(type, payload),
      shared: opened.name === 'indexeddb',
    });
    host.runs = new Runs(host, options?.workflows, client);
    core.start(host, opened.persistent, hi, lo, globalThis.navigator?.onLine !== false);
    host.core = core;
    client.#core = core;
    client.#host = host;
    client.store = opened.name;
    client.#listenToPlatform();
    // Runs an earlier page left: known to run(id), and resumed when their
    // workflow is registered here (a failed read is reported; the drainer reads again).
    if (opened.persistent) await client.#ask((id) => client.#run(RunEvent.Scan, id)).catch(() => {});
    const info = { store: opened.name, persistent: opened.persistent, ...(opened.note ? { note: opened.note } : {}) };
    // On a later task, so listeners attached right after createClient() see
    // the store chosen and everything the first resend of stored work does.
    setTimeout(() => {
      client.#emit('store', { type: 'selected', ...info });
      client.#core.resume(...now());
    }, 0);
    return client;
  }

  /** The platform's connectivity events, and the page going away (queued
   *  store writes go at once: a deferred delete must not be lost with it). */
  #listenToPlatform() {
    const target = globalThis;
    if (typeof target.addEventListener !== 'function') return;
    const online = () => this.#core.online(...now());
    const offline = () => this.#core.offline(...now());
    const hidden = () => this.#host.store.flush?.();
    target.addEventListener('online', online);
    target.addEventListener('offline', offline);
    target.addEventListener('pagehide', hidden);
    this.#unlisten = () => {
      target.removeEventListener('online', online);
      target.removeEventListener('offline', offline);
      target.removeEventListener('pagehide', hidden);
    };
  }

  #id() {
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
      const prepared = prepare(input, init, this.#host.keyHeader);
      if (prepared instanceof Promise) prepared.then((request) => this.#call(request, init, resolve, reject), reject);
      else this.#call(prepared, init, resolve, reject);
    });
  }

  #call(request, init, resolve, reject) {
    const id = this.#id();
    const call = { resolve, reject, request };
    this.#host.calls.set(id, call);
    const signal = request.signal;
    if (signal) {
      const aborted = () => this.#core.abort(id, Date.now(), performance.now());
      signal.addEventListener('abort', aborted);
      call.unlisten = () => signal.removeEventListener('abort', aborted);
    }
    try {
      this.#core.call(id, request.method, request.url, init?.idempotencyKey, request.headerKey,
        request.body ?? undefined, request.headers, init?.durable, signal?.aborted === true, Date.now(), performance.now());
    } catch (thrown) {
      this.#host.calls.delete(id);
      call.unlisten?.();
      return reject(fromCore(thrown));
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
    this.#core.setListening(mask);
  }

  #run(event, call, text) {
    this.#core.runEvent(event, call, text, 0, undefined, false, ...now());
  }

  /** A question for the core, answered through the host. */
  #ask(send) {
    const id = this.#id();
    return new Promise((resolve, reject) => {
      this.#host.calls.set(id, { resolve, reject });
      try {
        send(id);
      } catch (thrown) {
        this.#host.calls.delete(id);
        reject(fromCore(thrown));
      }
    });
  }

  /** Operations not yet settled: stored records and keyed calls running here. */
  pending() {
    return this.#ask((id) => this.#core.pending(id, ...now()));
  }

  /** Starts workflow `name` (persisted before any step runs); the same id
   *  again joins the run. Resolves with the run's handle. */
  start(name, input, options) {
    let json;
    let clone;
    try {
      clone = structuredClone(input);
      json = JSON.stringify(input) ?? 'undefined';
    } catch (cause) {
      return Promise.reject(new DurafetchError('invalid-option', {
        option: 'start(input)', expected: 'a value that is structured-cloneable and JSON-serialisable', value: input, cause,
      }));
    }
    const runId = options?.id ?? this.#host.newKey();
    const runs = this.#host.runs;
    if (typeof runId === 'string' && !runs.starting.has(runId) && !runs.values.has(runId)) runs.starting.set(runId, clone);
    return this.#ask((id) => this.#core.startRun(id, runId, name, json, ...now())).then((started) => this.#handle(started));
  }

  #handle(id) {
    const core = this.#core;
    const info = core.runInfo(id);
    return {
      id,
      name: info?.name ?? null,
      /** 'running', 'completed' or 'failed', as this client last saw it. */
      get state() {
        return core.runInfo(id)?.state ?? 'running';
      },
      /** How many steps its journal holds completed, as this client last saw it. */
      get steps() {
        return core.runInfo(id)?.steps ?? 0;
      },
      /** The workflow's return value, or a DurafetchError ('workflow-failed', 'workflow-mismatch'). */
      result: () => this.#ask((call) => this.#run(RunEvent.RunResult, call, id)),
    };
  }

  /** The handle of run `id` (started here or by an earlier page), or null. */
  run(id) {
    return this.#core.runInfo(String(id)) ? this.#handle(String(id)) : null;
  }

  /** Handles of the runs not yet finished, as stored. */
  runs() {
    return this.#ask((id) => this.#run(RunEvent.Runs, id)).then((infos) => infos.map((info) => this.#handle(info.id)));
  }

  /** The Response of keyed operation `key` once it settles, even if it settled
   *  in the background or in another tab (kept until read once, up to ttlMs);
   *  null if the store knows no such operation. */
  result(key) {
    return this.#ask((id) => this.#run(RunEvent.Result, id, key));
  }

  /** Resends now every operation that is waiting to retry. */
  async resume() {
    return this.#core.resume(...now());
  }

  /** No new calls; waiting calls end; background resends stop. Resolves
   *  once everything the client started is written to the store (an attempt
   *  already sent may still settle its call first). */
  async close() {
    this.#unlisten();
    this.#host.runs.close();
    this.#host.store.flush?.();
    this.#core.close(...now());
    await this.#host.storeClosed;
  }
}

/** Builds createClient around a loader that instantiates the wasm once. */
export function makeCreateClient(loadWasm) {
  return async function createClient(options) {
    await loadWasm();
    return DurafetchClient.create(options);
  };
}
