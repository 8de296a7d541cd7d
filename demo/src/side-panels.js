// The sidebar: breaker state per origin, the outbox as client.pending()
// reports it, and the two servers' raw counters.

const STAT_ROWS = [
  ['effectsApplied', 'orders applied'],
  ['duplicateEffects', 'duplicates (same clientOrderId)'],
  ['duplicatesSuppressed', 'resends answered from the key store'],
  ['conflicts409', '409: same key still processing'],
  ['dropped', 'answers dropped after placing'],
  ['errors503', '503s'],
  ['rateLimited429', '429s'],
];

function li(className, text, title) {
  const node = document.createElement('li');
  node.className = className;
  node.textContent = text;
  if (title) node.title = title;
  return node;
}

export function renderBreakers(list, breakers) {
  list.replaceChildren(...[...breakers].map(([origin, state]) => {
    const item = li(`breaker ${state}`, '');
    const pill = document.createElement('b');
    pill.textContent = state;
    item.append(pill, ` ${origin}`);
    return item;
  }));
}

const SHOWN = 10;

/** `pending`: client.pending(); `labelOf(key)`: the order number, if known. */
export function renderOutbox(list, pending, labelOf) {
  if (pending.length === 0) {
    list.replaceChildren(li('empty', 'empty: every order has its answer'));
    return;
  }
  const now = Date.now();
  const sorted = [...pending].sort((a, b) => a.createdAt - b.createdAt);
  const items = sorted.slice(0, SHOWN).map((p) => {
    const when = !p.durable ? 'being sent'
      : p.nextAttemptAt > now ? `next resend in ${((p.nextAttemptAt - now) / 1000).toFixed(1)} s`
        : 'due';
    const label = labelOf(p.key) ?? new URL(p.url).pathname;
    return li('op', `${label} · key ${p.key.slice(0, 8)} · ${p.attempts} attempt${p.attempts === 1 ? '' : 's'} · ${when}`,
      p.durable ? 'stored in IndexedDB: survives a reload' : 'a call in progress on this page');
  });
  if (sorted.length > SHOWN) items.push(li('more', `and ${sorted.length - SHOWN} more`));
  list.replaceChildren(...items);
}

export function renderStats(tbody, durafetch, plain) {
  tbody.replaceChildren(...STAT_ROWS.map(([field, label]) => {
    const tr = document.createElement('tr');
    for (const text of [label, durafetch?.[field] ?? '–', plain?.[field] ?? '–']) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}
