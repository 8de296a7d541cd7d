// The demo's control plane (counters, chaos knobs, reset) with plain fetch:
// these are not orders, so nothing here retries.

async function json(response) {
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
  return response.json();
}

/** One demo server at `base`. */
export function serverApi(base) {
  const at = (path) => new URL(path, base);
  return {
    base,
    stats: () => fetch(at('/stats'), { cache: 'no-store' }).then(json),
    chaos: () => fetch(at('/chaos'), { cache: 'no-store' }).then(json),
    setChaos: (patch) => fetch(at('/chaos'), {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(patch),
    }).then(json),
    reset: () => fetch(at('/reset'), { method: 'POST' }).then(json),
  };
}

/** Where the plain loop's server listens (written by demo/main.js at startup). */
export async function loadConfig() {
  return json(await fetch('/app/config.json', { cache: 'no-store' }));
}
