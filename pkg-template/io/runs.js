// Workflow runs on the JS side: the application's values (a run's input,
// each step's result, its outcome) and the running of its functions. What
// runs, what replays, what is compensated and when the journal is written is
// decided by the engine (src/core/engine/run.rs); this file performs it.
import {
  IN_RUN_EVENT, RUN_EVENT_FAILED, RUN_EVENT_RETURNED, RUN_EVENT_STEP_DONE, RUN_EVENT_STEP_REACHED, RUN_EVENT_STEP_THREW,
  RUN_EVENT_UNDO_DONE,
} from '../contract.js';
import { FROM_STEP } from '../client.js';
import { DurafetchError } from '../errors.js';

/** A copy the store can hold, or a clear error naming what could not be. */
function cloned(value, what) {
  try {
    return structuredClone(value);
  } catch (cause) {
    throw new DurafetchError('invalid-option', {
      option: what, expected: 'a Response or a structured-cloneable value (no functions, class instances keep only their fields)', value, cause,
    });
  }
}

/** A step's Response as it is journaled, and as `step` resolves with it on
 *  the first run and on replay alike: { status, headers, body }, the body
 *  JSON-parsed when it is JSON. (Whether its status fails the step is the
 *  engine's decision: `stepFailed`.) */
async function journaled(response) {
  const headers = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const text = await response.text();
  let body = text;
  if (/json/i.test(response.headers.get('content-type') ?? '') && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON after all: the text is the body.
    }
  }
  return { status: response.status, headers, body };
}

/** An error as the journal keeps it (plain data), and back. */
function describe(error, step) {
  if (error === null || typeof error !== 'object') return { message: String(error), step };
  const { name, message, kind, status, key, index, response } = error;
  return { name, message, kind, status, key, index, response, step: step ?? error.step };
}

/** The stored error as the cause a later page reports: a DurafetchError again when it was one. */
function revive(stored) {
  if (!stored) return new Error('the run failed');
  const { name, message, ...details } = stored;
  const error = name === 'DurafetchError' && stored.kind ? new DurafetchError(stored.kind, details) : new Error(message);
  return Object.assign(error, { message }, name && name !== 'DurafetchError' ? { name } : {});
}

export class Runs {
  /** run id -> the run's values ({ id, name, input, results, output, error }),
   *  as last read or written beside its journal. */
  values = new Map();
  /** start() call id -> its input, until the call is answered. */
  starting = new Map();
  /** run id -> the execution of its workflow function here. */
  #active = new Map();

  /** `host`: the core and the store; `client`: its fetch and result. */
  constructor(host, workflows, client) {
    this.host = host;
    this.workflows = workflows ?? {};
    this.client = client;
  }

  /** Tells the engine what the workflow's code did. */
  #event(kind, id, index = 0, name = '', flag = false, status) {
    const enc = this.host.input(IN_RUN_EVENT).u8(kind).str(id).u32(index).str(name).bool(flag).u32(status === undefined ? 0 : status + 1);
    this.host.run(enc, { 'step(name)': name });
  }

  /** What the store keeps of run `id`: the journal's bytes, and its values
   *  beside them (a new run's input: start() call `inputOf`'s). */
  stored(id, name, key, data, inputOf) {
    const prev = this.values.get(id);
    const input = prev ? prev.input : this.starting.get(inputOf);
    const run = { id, name, input, results: prev?.results ?? [], output: prev?.output, error: prev?.error };
    this.values.set(id, run);
    return { key, data, run };
  }

  /** Run `id`'s code runs here and has not ended. */
  executing(id) {
    const ctx = this.#active.get(id);
    return ctx !== undefined && !ctx.ended;
  }

  execute(id) {
    const run = this.values.get(id);
    const fn = this.workflows[run?.name];
    const ctx = { id, index: 0, waiting: null, undos: [], ended: false, error: undefined };
    ctx.step = (name, body, options) => this.#step(ctx, name, body, options);
    this.#active.set(id, ctx);
    // On a later task: outside the engine's turn (the code calls back in),
    // and after the caller of createClient attached its listeners.
    setTimeout(() => this.#run(ctx, fn, run.input), 0);
  }

  async #run(ctx, fn, input) {
    let value;
    try {
      value = await fn(ctx.step, structuredClone(input));
    } catch (error) {
      return this.#fail(ctx, error);
    }
    if (ctx.ended) return;
    let output;
    try {
      output = cloned(value, "the workflow's return value");
    } catch (error) {
      return this.#fail(ctx, error);
    }
    ctx.ended = true;
    this.values.get(ctx.id).output = output;
    this.#event(RUN_EVENT_RETURNED, ctx.id);
  }

  /** `step`: the step that failed (none: the workflow's own code threw). */
  #fail(ctx, error, step) {
    if (ctx.ended) return;
    ctx.ended = true;
    ctx.error = error;
    ctx.failedStep = step;
    this.values.get(ctx.id).error = describe(error, step);
    this.#event(RUN_EVENT_FAILED, ctx.id);
  }

  #step(ctx, name, body, options) {
    if (ctx.ended) return Promise.reject(ctx.error ?? new DurafetchError('closed'));
    if (ctx.waiting) {
      return Promise.reject(new DurafetchError('invalid-option', {
        option: 'step', expected: 'one step at a time: await each step before starting the next', value: name,
      }));
    }
    if (typeof body !== 'function') {
      return Promise.reject(new DurafetchError('invalid-option', { option: `step('${name}')`, expected: 'a function (fetch) => …', value: body }));
    }
    const undo = options?.undo;
    if (undo !== undefined && typeof undo !== 'function') {
      return Promise.reject(new DurafetchError('invalid-option', { option: `step('${name}').undo`, expected: 'a function (fetch, result) => …', value: undo }));
    }
    const index = ctx.index++;
    return new Promise((resolve, reject) => {
      ctx.waiting = { index, name, body, resolve, reject };
      ctx.undos[index] = undo;
      try {
        this.#event(RUN_EVENT_STEP_REACHED, ctx.id, index, name, undo !== undefined);
      } catch (error) {
        ctx.waiting = null;
        reject(error);
      }
    });
  }

  #waiting(id, index) {
    const ctx = this.#active.get(id);
    const w = ctx?.waiting;
    return w && w.index === index ? [ctx, w] : [];
  }

  stepGo(id, index, go, key) {
    const [ctx, w] = this.#waiting(id, index);
    if (!w) return;
    if (go === 'run') return void this.#perform(ctx, w, key);
    ctx.waiting = null;
    if (go === 'replay') return w.resolve(structuredClone(this.values.get(id).results[index]));
    const error = new DurafetchError('workflow-mismatch', { key: id, step: w.name, index });
    ctx.ended = true;
    ctx.error = error;
    this.values.get(id).error = describe(error);
    w.reject(error);
  }

  async #perform(ctx, w, key) {
    let value;
    let status;
    try {
      const returned = await w.body(this.#fetchFor(key));
      if (returned instanceof Response) {
        value = await journaled(returned);
        status = returned.status;
      } else {
        value = cloned(returned, `step('${w.name}')'s result`);
      }
    } catch (error) {
      // The engine decides what a throwing step means (`stepFailed`).
      ctx.thrown = error;
      return this.#event(RUN_EVENT_STEP_THREW, ctx.id, w.index, w.name);
    }
    if (ctx.ended) return;
    this.values.get(ctx.id).results[w.index] = value;
    this.#event(RUN_EVENT_STEP_DONE, ctx.id, w.index, w.name, false, status);
  }

  /** The engine failed step `index`: for the status of the Response it
   *  returned, or (`status` undefined) because it threw. */
  stepFailed(id, index, status) {
    const [ctx, w] = this.#waiting(id, index);
    if (!w) return;
    const error = status === undefined
      ? ctx.thrown
      : new DurafetchError('step-status', { step: w.name, status, response: this.values.get(id).results[index] });
    ctx.waiting = null;
    ctx.ended = true;
    ctx.error = error;
    ctx.failedStep = w.name;
    this.values.get(id).error = describe(error, w.name);
    w.reject(error);
  }

  stepCommitted(id, index) {
    const [ctx, w] = this.#waiting(id, index);
    if (!w) return;
    ctx.waiting = null;
    w.resolve(structuredClone(this.values.get(id).results[index]));
  }

  /** Compensates step `index` of a failed run with its `undo`. */
  undo(id, index, key) {
    const ctx = this.#active.get(id);
    const undo = ctx?.undos[index];
    const result = this.values.get(id)?.results?.[index];
    queueMicrotask(async () => {
      let ok = false;
      try {
        if (typeof undo === 'function') {
          await undo(this.#fetchFor(key), structuredClone(result));
          ok = true;
        }
      } catch (error) {
        (ctx.undoErrors ??= []).push(error);
      }
      this.#event(RUN_EVENT_UNDO_DONE, id, index, '', ok);
    });
  }

  /** A step's fetch: durafetch's, each request marked with the step's key
   *  and its place in the step (the engine keys it of both, so a resumed
   *  step resends each request under its key; one that ends 'queued' waits
   *  for its answer, since the step needs it). */
  #fetchFor(key) {
    let n = 0;
    return (input, init) => this.client.fetch(input, { ...init, [FROM_STEP]: { key, n: n++ } });
  }

  /** How run `id` ended, for its result(): the value, or the error. */
  outcome(id, outcome) {
    const run = this.values.get(id);
    const ctx = this.#active.get(id);
    if (outcome.state === 'completed') return { value: structuredClone(run?.output) };
    const stored = run?.error ?? {};
    if (outcome.state === 'mismatch') {
      if (ctx?.error?.kind === 'workflow-mismatch') return { error: ctx.error };
      return { error: new DurafetchError('workflow-mismatch', { key: id, step: stored.step, index: stored.index }) };
    }
    const cause = ctx?.error ?? revive(run?.error);
    const step = ctx ? ctx.failedStep : stored.step;
    return { error: new DurafetchError('workflow-failed', { key: id, step, cause, compensated: outcome.compensated }) };
  }

  /** close(): runs stop where they are; a later client resumes them. */
  close() {
    for (const ctx of this.#active.values()) {
      ctx.ended = true;
      ctx.error = new DurafetchError('closed');
      const w = ctx.waiting;
      ctx.waiting = null;
      w?.reject(ctx.error);
    }
    this.#active.clear();
  }
}
