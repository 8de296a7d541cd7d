// The host of the full module: everything Host does, and the workflow
// runs' I/O (io/runs.js runs the workflow code; the engine decides).
import {
  EVENT_WORKFLOW, OUT_EXECUTE, OUT_INFO, OUT_PUT_RUN, OUT_RUN_ENDED, OUT_RUN_STARTED, OUT_RUNS,
  OUT_STOP_RUNS, OUT_STEP_COMMITTED, OUT_STEP_FAILED, OUT_STEP_GO, OUT_UNDO, RUN_STATES, WORKFLOW_STATES,
} from '../contract.js';
import { Host } from './host.js';
import { Runs } from './runs.js';

const STEP_GO = ['replay', 'run', 'mismatch'];
const OUTCOMES = ['completed', 'failed', 'mismatch'];

function runInfo(d) {
  return { id: d.str(), name: d.str(), state: RUN_STATES[d.u8()], steps: d.u32(), createdAt: d.f64() };
}

export class RunHost extends Host {
  /** What the last `runInfo` input answered: a run's info, or null. */
  info = null;

  constructor(parts, workflows, client) {
    super(parts);
    this.runs = new Runs(this, workflows, client);
  }

  read(value) {
    // A run this page executes is ahead of its stored journal (a step's
    // answer is in memory until its write commits): a listing read in
    // between must not put the older values back.
    const run = value.run;
    if (run && typeof run.id === 'string' && !this.runs.executing(run.id)) this.runs.values.set(run.id, run);
    super.read(value);
  }

  #answer(id) {
    const call = this.calls.get(id);
    this.calls.delete(id);
    return call;
  }

  perform(op, d) {
    const runs = this.runs;
    switch (op) {
      case OUT_PUT_RUN: {
        const io = d.u32();
        const id = d.str();
        const stored = runs.stored(id, d.str(), d.str(), d.bytes(), d.optU32());
        return this.wrote(io, this.store.put(stored));
      }
      case OUT_EXECUTE: return runs.execute(d.str());
      case OUT_STEP_GO: {
        const id = d.str();
        const index = d.u32();
        const go = STEP_GO[d.u8()];
        return runs.stepGo(id, index, go, go === 'run' ? d.str() : undefined);
      }
      case OUT_STEP_COMMITTED: return runs.stepCommitted(d.str(), d.u32());
      case OUT_STEP_FAILED: return runs.stepFailed(d.str(), d.u32(), d.optU32());
      case OUT_UNDO: return runs.undo(d.str(), d.u32(), d.str());
      case OUT_RUN_STARTED: {
        const call = this.#answer(d.u32());
        return call?.resolve(d.str());
      }
      case OUT_RUN_ENDED: {
        const call = this.#answer(d.u32());
        const id = d.str();
        const outcome = { state: OUTCOMES[d.u8()] };
        if (outcome.state === 'failed') {
          outcome.compensated = [];
          for (let n = d.u32(); n > 0; n--) outcome.compensated.push(d.str());
        }
        const { value, error } = runs.outcome(id, outcome);
        return error ? call?.reject(error) : call?.resolve(value);
      }
      case OUT_RUNS: {
        const call = this.#answer(d.u32());
        const infos = [];
        for (let n = d.u32(); n > 0; n--) infos.push(runInfo(d));
        return call?.resolve(infos);
      }
      case OUT_STOP_RUNS: return runs.close();
      case OUT_INFO:
        this.info = d.u8() ? runInfo(d) : null;
        return undefined;
      default:
        return super.perform(op, d);
    }
  }

  event(type, d) {
    if (type !== EVENT_WORKFLOW) return super.event(type, d);
    const e = { id: d.str(), name: d.str(), state: WORKFLOW_STATES[d.u8()] };
    const step = d.optStr();
    if (step !== undefined) e.step = step;
    return ['workflow', e];
  }
}
