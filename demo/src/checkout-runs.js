// The checkout lane's model: a row per run, a cell per step, moved on by the
// client's 'workflow' events. Plain data, saved across a reload (session.js),
// so the new page can show where the old one was cut.
//
// Run:  { id, n, state, steps: { [step]: Step }, reloads, output?, error?, errorDetail? }
//   state: 'running' | 'resuming' (cut by a reload, or found in the journal:
//          not heard from yet) | 'completed' | 'failed' | 'unknown' (not in the journal)
// Step: { state, reloads, resumed }
//   state: 'todo' | 'running' | 'cut' (running when the page went away)
//          | 'done' | 'replayed' (done on a page this one never saw)
//          | 'failed' | 'compensated' (its undo ran after a later step failed)
//   resumed: started again by a new page after a reload cut it
import { STEPS } from './checkout.js';

const UNFINISHED = ['running', 'resuming'];

export class CheckoutRuns {
  constructor(saved = []) {
    this.runs = new Map(saved.map((r) => [r.id, r]));
  }

  /** A run started on this page, as number `n` of this tab. */
  add(id, n) {
    const steps = Object.fromEntries(STEPS.map((s) => [s, { state: 'todo', reloads: 0, resumed: false }]));
    const run = { id, n, state: 'running', steps, reloads: 0 };
    this.runs.set(id, run);
    return run;
  }

  /** The row of run `id`; a run this page did not start (another tab's, or an earlier session's) gets one. */
  ensure(id) {
    return this.runs.get(id) ?? Object.assign(this.add(id, null), { state: 'resuming' });
  }

  /** A 'workflow' event: { id, state, step }. */
  event({ id, state, step }) {
    const run = this.ensure(id);
    const cell = run.steps[step];
    if (state === 'started') run.state = 'running';
    if (state === 'step-started' && cell) {
      // The run went on from here, so every step before it was done: a
      // resumed run replays those from its journal without a word.
      for (const s of STEPS.slice(0, STEPS.indexOf(step))) if (run.steps[s].state === 'todo') run.steps[s].state = 'replayed';
      if (cell.state === 'cut') cell.resumed = true;
      cell.state = 'running';
      run.state = 'running';
    }
    if (state === 'step-completed' && cell) cell.state = 'done';
    if (state === 'compensated' && cell) cell.state = 'compensated';
    if (state === 'completed') this.#complete(run);
    if (state === 'failed') this.#fail(run);
  }

  /** How run.result() ended: { value } or { error }. */
  settled(id, { value, error }) {
    const run = this.ensure(id);
    if (error) {
      this.#fail(run);
      // A refused step (kind 'step-status') carries the server's answer.
      const refused = error.cause?.kind === 'step-status' ? error.cause : undefined;
      run.error = refused ? `${error.step}: ${refused.status} ${refused.response?.body?.error ?? ''}`.trim() : error.message;
      run.errorDetail = error.message;
    } else {
      this.#complete(run);
      run.output = value;
    }
  }

  /** run(id) knows no such run: it was never journaled (a reload right after the click). */
  unknown(id) {
    const run = this.runs.get(id);
    if (run && UNFINISHED.includes(run.state)) run.state = 'unknown';
  }

  /** The page is going away: what was running is cut; the journal keeps the run. */
  cutByReload() {
    for (const run of this.unfinished()) {
      for (const cell of Object.values(run.steps)) {
        if (cell.state !== 'running') continue;
        cell.state = 'cut';
        cell.reloads++;
      }
      run.reloads++;
      run.state = 'resuming';
    }
  }

  unfinished() {
    return [...this.runs.values()].filter((r) => UNFINISHED.includes(r.state));
  }

  clear() { this.runs.clear(); }

  toJSON() { return [...this.runs.values()]; }

  #complete(run) {
    run.state = 'completed';
    // Steps no event told this page about: another tab ran them, holding the run's lock.
    for (const cell of Object.values(run.steps)) if (cell.state === 'todo') cell.state = 'done';
  }

  #fail(run) {
    run.state = 'failed';
    for (const cell of Object.values(run.steps)) if (cell.state === 'running' || cell.state === 'cut') cell.state = 'failed';
  }
}
