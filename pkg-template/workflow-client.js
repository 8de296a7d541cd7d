// The client of `durafetch/workflows`: everything DurafetchClient does, and
// durable workflow runs (start, run, runs). Built into its own module with
// the full .wasm: a page that does not run workflows never downloads them.
import { DurafetchClient, random } from './client.js';
import { IN_RUN_INFO, IN_RUN_RESULT, IN_RUNS, IN_START_RUN } from './contract.js';
import { DurafetchError } from './errors.js';
import { RunHost } from './io/run-host.js';

export class WorkflowClient extends DurafetchClient {
  _newHost(options, parts) {
    return new RunHost(parts, options?.workflows, this);
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
    const host = this._host;
    const runId = options?.id ?? undefined;
    const runs = host.runs;
    // Held for the engine's journal write of a run this call makes (PutRun
    // names the call whose input it stores); the engine makes the id when
    // none is given.
    let call;
    const done = () => runs.starting.delete(call);
    return this._ask((id) => {
      call = id;
      runs.starting.set(id, clone);
      const enc = host.input(IN_START_RUN).u32(id);
      enc.arg(runId, typeof runId === 'string', (r) => enc.str(r)).str(String(name)).str(json).raw(random(32));
      host.run(enc, { id: runId, 'start(name)': name });
    }).then((started) => {
      done();
      return this.#handle(started);
    }, (error) => {
      done();
      throw error;
    });
  }

  #info(id) {
    const host = this._host;
    host.run(host.input(IN_RUN_INFO).str(id));
    return host.info;
  }

  #handle(id) {
    const info = this.#info(id);
    const client = this;
    return {
      id,
      name: info?.name ?? null,
      /** 'running', 'completed' or 'failed', as this client last saw it. */
      get state() {
        return client.#info(id)?.state ?? 'running';
      },
      /** How many steps its journal holds completed, as this client last saw it. */
      get steps() {
        return client.#info(id)?.steps ?? 0;
      },
      /** The workflow's return value, or a DurafetchError ('workflow-failed', 'workflow-mismatch'). */
      result: () => this._ask((call) => this._host.run(this._host.input(IN_RUN_RESULT).u32(call).str(id))),
    };
  }

  /** The handle of run `id` (started here or by an earlier page), or null. */
  run(id) {
    return this.#info(String(id)) ? this.#handle(String(id)) : null;
  }

  /** Handles of the runs not yet finished, as stored. */
  runs() {
    return this._ask((id) => this._host.run(this._host.input(IN_RUNS).u32(id))).then((infos) => infos.map((info) => this.#handle(info.id)));
  }

}
