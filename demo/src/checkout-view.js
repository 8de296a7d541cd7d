// Draws the checkout lane: a line per run, its steps in order, each with
// what the page saw (sent, cut by a reload, resent, done) and what the
// server counted for it (GET /stats: requests received, effects applied).
import { STEPS } from './checkout.js';

const STEP_MARK = { todo: '', running: '…', cut: '', done: '✓', replayed: '✓', failed: '✕', compensated: '↶' };
const STEP_TITLE = {
  todo: 'not reached yet',
  running: 'sent, waiting for the answer',
  cut: 'the page reloaded before the answer came: the next page resends it with the same key',
  done: 'answered',
  replayed: 'completed on an earlier page: replayed from the journal, not sent again',
  failed: 'failed',
  compensated: 'undone after a later step failed (the hold was released)',
};
const RUN_TEXT = {
  running: 'running', resuming: 'resuming…', completed: 'completed', failed: 'failed',
  unknown: 'never journaled (reloaded before start() resolved)',
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `counts`: the server's { requests, effects } for this step of this run, if it saw any. */
function stepNode(name, cell, counts) {
  const node = el('span', `step state-${cell.state}${cell.resumed ? ' resumed' : ''}`);
  Object.assign(node.dataset, { step: name, state: cell.state, resumed: String(cell.resumed), reloads: String(cell.reloads) });
  node.append(el('b', '', name));
  for (let i = 0; i < cell.reloads; i++) node.append(el('span', 'reload', '⟳'));
  if (STEP_MARK[cell.state]) node.append(el('i', 'mark', STEP_MARK[cell.state]));
  const effects = counts?.effects ?? 0;
  const applied = el('small', `applied${effects > 1 ? ' bad' : ''}`, counts ? `applied ${effects}×` : '');
  applied.dataset.effects = String(effects);
  applied.dataset.requests = String(counts?.requests ?? 0);
  node.append(applied);
  node.title = `${STEP_TITLE[cell.state]}${cell.resumed ? ' (resent by the new page after a reload)' : ''}`
    + (counts ? `\nserver: ${counts.requests} request${counts.requests === 1 ? '' : 's'} received, applied ${effects}×` : '');
  return node;
}

/** Renders `runs` (a CheckoutRuns) into `list`, newest last; `stats`: GET /stats' `checkout`. */
export function renderCheckouts(list, runs, stats) {
  const items = [...runs.runs.values()].map((run) => {
    const li = el('li', `run state-${run.state}`);
    Object.assign(li.dataset, { run: run.id, state: run.state });
    li.append(el('span', 'n', run.n ? `#${run.n}` : '–'), el('code', 'key', run.id));
    const steps = el('span', 'steps');
    STEPS.forEach((name, i) => {
      if (i > 0) steps.append(el('span', 'arrow', '→'));
      steps.append(stepNode(name, run.steps[name], stats?.runs?.[run.id]?.[name]));
    });
    const released = stats?.runs?.[run.id]?.release?.effects;
    if (released) steps.append(el('small', 'released', `hold released ${released}×`));
    const end = el('span', 'end', run.state === 'failed' && run.error ? `failed: ${run.error}` : RUN_TEXT[run.state]);
    end.title = run.output ? `result: ${JSON.stringify(run.output)}` : run.errorDetail ?? '';
    li.append(steps, end);
    return li;
  });
  list.replaceChildren(...items);
  if (items.length === 0) list.append(el('li', 'empty', 'No checkout yet. Try: latency 1500 ms, start a checkout, reload while "reserve" shows …'));
}
