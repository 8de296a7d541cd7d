// The two cards at the top: the point of the demo in two numbers. The
// duplicate counts are the servers' own (effects per clientOrderId), not
// anything the page infers.

function set(id, value) {
  const node = document.getElementById(id);
  const text = value === undefined ? '–' : String(value);
  if (node.textContent !== text) node.textContent = text;
  return node;
}

function setDuplicates(id, value) {
  const node = set(id, value);
  node.closest('.big').classList.toggle('bad', value > 0);
  node.closest('.big').classList.toggle('good', value === 0);
}

/** `stats`: GET /stats of each server; `pending`: client.pending(). */
export function renderScoreboard({ lanes, stats, pending }) {
  setDuplicates('df-dups', stats.durafetch?.duplicateEffects);
  set('df-placed', lanes.durafetch.size);
  set('df-effects', stats.durafetch?.effectsApplied);
  set('df-replays', stats.durafetch?.duplicatesSuppressed);
  set('df-pending', pending.length);
  setDuplicates('plain-dups', stats.plain?.duplicateEffects);
  set('plain-placed', lanes.plain.size);
  set('plain-effects', stats.plain?.effectsApplied);
  set('plain-failed', lanes.plain.count('failed'));
  set('plain-lost', lanes.plain.count('lost'));
}
