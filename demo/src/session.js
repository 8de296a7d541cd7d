// The page's memory across reloads (sessionStorage, this tab only): the
// timeline, the checkout lane and their numbering. The operations and runs
// themselves survive in durafetch's IndexedDB store, not here; this only
// keeps the drawing.
const KEY = 'durafetch-demo';
const FRESH = { nextCheckout: 1, checkout: [] }; // fields newer than v1

export function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY));
    if (saved && saved.v === 1) return { ...FRESH, ...saved };
  } catch {
    // unreadable: start afresh
  }
  return { v: 1, tab: crypto.randomUUID().slice(0, 8), nextOrder: 1, durafetch: [], plain: [], ...FRESH };
}

export function saveSession(session, lanes, checkouts) {
  const data = { ...session, durafetch: lanes.durafetch.toJSON(), plain: lanes.plain.toJSON(), checkout: checkouts.toJSON() };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(data));
  } catch {
    // storage full or disabled: the drawing is lost on reload, nothing else
  }
}
