// Draws both lanes as one list: a line per order number, durafetch's
// attempts on the left, the plain loop's on the right, so the same order
// can be compared across the two clients.

const MS_PER_PX = 5; // waits are drawn to scale...
const MAX_WAIT_PX = 160; // ...up to a cap (a long Retry-After would not fit)

const MARK_TEXT = { sent: '…', dropped: '✕', s503: '503', s429: '429', ok: '✓', timeout: '⏱', lost: '?' };
const MARK_TITLE = {
  sent: 'sent, waiting for the answer',
  dropped: 'no answer: the connection died (with the drop knob: after the order was placed)',
  s503: '503: refused before placing the order',
  s429: '429: rate limited, Retry-After honoured',
  ok: 'answered: the order is placed',
  timeout: 'no answer in time',
  lost: 'the page reloaded before the answer came',
};
const STATE_TEXT = { ok: 'placed', outbox: 'in outbox', failed: 'gave up', lost: 'forgotten by the reload', flying: '', unseen: 'answered during the reload' };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function markNode(mark, attemptNo) {
  if (mark.t === 'wait') {
    const px = Math.max(2, Math.min(MAX_WAIT_PX, mark.ms / MS_PER_PX));
    const wait = el('span', 'wait', px >= 34 ? `${mark.ms}ms` : '');
    wait.style.width = `${px}px`;
    wait.title = `waited ${mark.ms} ms (random in [0, cap], the cap doubling per attempt)`;
    return wait;
  }
  if (mark.t === 'reload') return Object.assign(el('span', 'reload', '⟳'), { title: 'the page reloaded here' });
  if (mark.t === 'breaker') return Object.assign(el('i', 'mark breaker', 'open'), { title: 'circuit breaker open: not sent, left in the outbox' });
  const text = mark.o === 'other' ? String(mark.status) : mark.o === 'ok' ? String(mark.status ?? '✓') : MARK_TEXT[mark.o];
  const node = el('i', `mark ${mark.o}${mark.resumed ? ' resumed' : ''}`, text);
  node.title = `attempt ${attemptNo}: ${MARK_TITLE[mark.o] ?? `HTTP ${mark.status}`}${mark.resumed ? ' (resent by the outbox after a reload)' : ''}`;
  return node;
}

function cell(row, who) {
  const node = el('span', `cell ${who}`);
  if (!row) return node;
  node.classList.add(`state-${row.state}`);
  const key = row.key ? row.key.slice(0, 8) : who === 'plain' ? 'no key' : '';
  const keyNode = el('code', 'key', key);
  if (row.key) keyNode.title = `Idempotency-Key ${row.key}, sent on every attempt`;
  node.append(keyNode);
  let attemptNo = 0;
  const marks = el('span', 'marks');
  for (const mark of row.marks) marks.append(markNode(mark, mark.t === 'attempt' ? ++attemptNo : attemptNo));
  node.append(marks, el('span', 'end', STATE_TEXT[row.state]));
  if (row.error) node.title = row.error;
  if (row.state === 'unseen') node.title = 'Answered in the instant the old page was unloading: the outbox had its answer and removed it, the old page could not draw it.';
  return node;
}

/** Renders the lanes into `list`, newest order last. */
export function renderTimeline(list, lanes) {
  const numbers = [...new Set([...lanes.durafetch.rows.keys(), ...lanes.plain.rows.keys()])].sort((a, b) => a - b);
  const items = numbers.map((n) => {
    const li = el('li');
    li.dataset.order = n;
    li.append(el('span', 'n', `#${n}`), cell(lanes.durafetch.get(n), 'durafetch'), cell(lanes.plain.get(n), 'plain'));
    return li;
  });
  list.replaceChildren(...items);
  if (numbers.length === 0) list.append(el('li', 'empty', 'No orders yet. Try: drop the answer 30 %, 503 10 %, latency 250 ms; place a burst of 50; reload mid-flight.'));
}
