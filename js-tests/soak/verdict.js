// The soak's end state, as data the test asserts on and prints.
const SLACK_MS = 1000;

/** Effects, duplicates, losses, what is still pending, and 'settled' coverage. */
export async function snapshot({ driver, server, events, settledKeys, ops }) {
  const page = driver.tabs[0].page;
  const outbox = (await page.evaluate(() => window.outboxOrders())).map(({ key, order }) => ({ key, order }));
  const pending = (await Promise.all(driver.tabs.map((t) => t.page.evaluate(() => window.pendingKeys())))).flat();
  const effects = [...server.effectsByOrder.values()].reduce((a, b) => a + b, 0);
  const orders = [...Array(ops).keys()];
  const lost = orders.filter((o) => !server.effectsByOrder.has(o));
  const duplicates = orders.filter((o) => server.effectsByOrder.get(o) > 1 || server.keysByOrder.get(o)?.size > 1)
    .concat([...server.effectsByKey].filter(([, n]) => n > 1).map(([k]) => k));
  // 'settled' seen through CDP, or noted in localStorage by the page (a CDP
  // message can be lost as the browser closes; the note tells us it was emitted).
  const noted = new Set(await page.evaluate(() => window.settledInStorage()));
  const unsettled = [...server.effectsByKey.keys()].filter((k) => !settledKeys.has(k) && !noted.has(k));
  const onlyNoted = [...noted].filter((k) => !settledKeys.has(k));
  // A key with an 'attempt' or 'queued' event had its record persisted: it
  // must reach the server sooner or later (an interrupted order resubmitted
  // by the driver must not hide a persisted record that vanished).
  const vanished = [...new Set(events.filter((e) => e.type === 'attempt' || e.type === 'queued').map((e) => e.key))]
    .filter((k) => !server.log.has(k));
  const done = lost.length === 0 && outbox.length === 0 && pending.length === 0 && unsettled.length === 0;
  return { outbox, pending, effects, lost, duplicates, unsettled, onlyNoted, vanished, done };
}

/**
 * The known bug (see repro-lost-settled.js): the key's last answer was a
 * delivered 201 and the page that sent it died right after, in a reload or
 * the restart. durafetch deletes the record, then emits 'settled' once the
 * delete completes; a page that dies in between leaves no record and no event.
 */
export function diedAfterAnswer(key, { server, events, chaosLog }) {
  const last = server.log.get(key)?.at(-1);
  if (last?.what !== 201) return false;
  const sender = events.filter((e) => e.type === 'attempt' && e.key === key).at(-1)?.tab;
  return chaosLog.some((c) => (c.type === 'restart' || String(c.tab) === sender) &&
    c.start - SLACK_MS <= last.at && last.at <= c.end);
}

/** A key in flight twice is expected only for a request orphaned by a dying page. */
export function unexplainedOverlaps(server, chaosLog) {
  return server.overlaps.filter((o) => !chaosLog.some((c) => c.start - 100 <= o.at && o.since <= c.end));
}

/** What the server and the events say about each key the soak could not account for. */
export function diagnose(state, { driver, server, events }) {
  console.log('end state:', JSON.stringify({ ...state, lost: state?.lost.slice(0, 20), outbox: state?.outbox.slice(0, 20) }));
  for (const key of (state?.unsettled ?? []).slice(0, 10)) {
    const order = [...server.keysByOrder].find(([, keys]) => keys.has(key))?.[0];
    console.log(`unsettled ${key} (order ${order}, submissions ${driver.history.get(order)}):\n` +
      `  server: ${JSON.stringify(server.log.get(key))}\n  events: ${JSON.stringify(events.filter((e) => e.key === key))}`);
  }
  console.log(`chaos: ${JSON.stringify(driver.chaosLog)}; last order request at ${server.lastRequestAt}; now ${Date.now()}`);
}

/** Where the outbox is stuck, if it is: its head in replay order, and who holds which Web Lock. */
export async function diagnoseOutbox({ driver }) {
  const records = await driver.tabs[0].page.evaluate(() => window.outboxOrders()).catch((e) => e.message);
  if (Array.isArray(records)) {
    records.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq || (a.key < b.key ? -1 : 1));
    console.log(`outbox: ${records.length} records; head: ${JSON.stringify(records.slice(0, 3))}`);
  }
  for (const tab of driver.tabs) {
    const locks = await tab.page.evaluate(() => navigator.locks.query()).catch((e) => e.message);
    const pending = await tab.page.evaluate(() => window.client.pending()).catch((e) => e.message);
    const live = Array.isArray(pending) ? pending.filter((p) => !p.durable) : pending;
    console.log(`tab ${tab.name}: live calls ${JSON.stringify(live)}; locks ${JSON.stringify(locks)}`);
  }
}
