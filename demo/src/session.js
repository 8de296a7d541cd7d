// The page's memory across reloads (sessionStorage, this tab only): the
// timeline and the order numbering. The operations themselves survive in
// durafetch's IndexedDB outbox, not here; this only keeps the drawing.
const KEY = 'durafetch-demo';

export function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY));
    if (saved && saved.v === 1) return saved;
  } catch {
    // unreadable: start afresh
  }
  return { v: 1, tab: crypto.randomUUID().slice(0, 8), nextOrder: 1, durafetch: [], plain: [] };
}

export function saveSession(session, lanes) {
  const data = { ...session, durafetch: lanes.durafetch.toJSON(), plain: lanes.plain.toJSON() };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(data));
  } catch {
    // storage full or disabled: the drawing is lost on reload, nothing else
  }
}
