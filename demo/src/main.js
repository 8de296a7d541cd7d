// The demo page: wires the durafetch client, the plain loop, the checkout
// lane, the controls and the views together. Every order goes through
// `placeOrders`; every checkout through `checkouts.start`.
import { createClient } from 'durafetch/workflows';
import { loadConfig, serverApi } from './api.js';
import { followQueued, readKeptAnswers, registerWorker, renderBackground } from './background-lane.js';
import { bindChaos } from './chaos-controls.js';
import { checkoutWorkflow } from './checkout.js';
import { followCheckouts } from './checkout-lane.js';
import { CheckoutRuns } from './checkout-runs.js';
import { renderCheckouts } from './checkout-view.js';
import { followClient } from './durafetch-events.js';
import { Lane } from './lane.js';
import { orderUrl, placeWithDurafetch, placeWithPlainLoop, RETRY } from './orders.js';
import { renderScoreboard } from './scoreboard.js';
import { loadSession, saveSession } from './session.js';
import { renderBreakers, renderOutbox, renderStats } from './side-panels.js';
import { renderTimeline } from './timeline-view.js';

// Same retry schedule as the plain loop. A short breaker cooldown so an open
// breaker is seen closing again within the demo's attention span.
const CLIENT_OPTIONS = { ...RETRY, breaker: { failureThreshold: 8, cooldownMs: 3000 } };
const POLL_MS = 500;

const $ = (id) => document.getElementById(id);

async function main() {
  const config = await loadConfig();
  const servers = { durafetch: serverApi(location.origin), plain: serverApi(config.plainApi) };
  const session = loadSession();
  const lanes = { durafetch: new Lane(session.durafetch), plain: new Lane(session.plain) };
  const runs = new CheckoutRuns(session.checkout);
  const view = { lanes, stats: {}, pending: [], breakers: new Map([[location.origin, 'closed']]), background: {} };

  let frame = 0;
  const redraw = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      renderTimeline($('timeline'), lanes);
      renderScoreboard(view);
      renderBreakers($('breakers'), view.breakers);
      renderOutbox($('outbox'), view.pending, (key) => (lanes.durafetch.byKey.has(key) ? `#${lanes.durafetch.byKey.get(key).n}` : undefined));
      renderStats($('stats'), view.stats.durafetch, view.stats.plain);
      renderCheckouts($('checkout-runs'), runs, view.stats.durafetch?.checkout);
      renderBackground({ status: $('worker-status'), delivered: $('worker-orders'), kept: $('kept-answers') },
        { ...view.background, stats: view.stats.durafetch });
    });
  };
  // The service worker delivers what a closed page left queued (Background Sync).
  view.background.worker = await registerWorker().catch((error) => ({ supported: false, error }));

  // Registering the workflow is what resumes the checkouts an earlier page left.
  const client = await createClient({ ...CLIENT_OPTIONS, workflows: { checkout: checkoutWorkflow(location.origin) } });
  // Subscribed before the first task ends: the outbox's resends of orders
  // from before a reload, and the resumed runs, start on the next one, and are drawn too.
  followClient(client, lanes.durafetch, {
    tab: session.tab,
    onBreaker: (origin, state) => { view.breakers.set(origin, state); redraw(); },
    onChange: redraw,
  });
  const checkouts = followCheckouts(client, runs, redraw);
  followQueued(client);
  view.background.kept = await readKeptAnswers(client);

  // On the way out: what was in flight is in durafetch's outbox (resent by
  // the next page) but gone for the plain loop. Keep the drawing for later.
  addEventListener('pagehide', () => {
    lanes.durafetch.cutByReload(true);
    lanes.plain.cutByReload(false);
    runs.cutByReload();
    saveSession(session, lanes, runs);
  });

  const placeOrders = (count) => {
    const sideBySide = $('side-by-side').checked;
    for (let i = 0; i < count; i++) {
      const n = session.nextOrder++;
      const id = `${session.tab}-${n}`;
      const row = lanes.durafetch.add(n, id);
      placeWithDurafetch(client, lanes.durafetch, row, orderUrl(location.origin, row, session.tab)).then(redraw);
      if (sideBySide) placeWithPlainLoop(lanes.plain, lanes.plain.add(n, id), servers.plain.base, redraw);
    }
    redraw();
  };
  $('place-one').addEventListener('click', () => placeOrders(1));
  $('place-burst').addEventListener('click', () => {
    const size = $('burst-size');
    if (size.checkValidity()) placeOrders(Number(size.value));
  });
  $('checkout-start').addEventListener('click', () => {
    const n = session.nextCheckout++;
    checkouts.start(`co-${session.tab}-${n}`, n);
  });
  for (const button of ['reload', 'checkout-reload']) $(button).addEventListener('click', () => location.reload());
  $('reset').addEventListener('click', async () => {
    await Promise.all([servers.durafetch.reset(), servers.plain.reset()]);
    lanes.durafetch.clear();
    lanes.plain.clear();
    runs.clear();
    redraw();
  });
  await bindChaos([servers.durafetch, servers.plain], $('chaos-status'));

  // The outbox and the counters live elsewhere (IndexedDB, the servers): poll them.
  const poll = async () => {
    try {
      const [pending, durafetch, plain] = await Promise.all([client.pending(), servers.durafetch.stats(), servers.plain.stats()]);
      Object.assign(view, { pending, stats: { durafetch, plain } });
      lanes.durafetch.reconcile(new Set(pending.map((p) => p.key)));
      $('status').textContent = `client ready · outbox in ${client.store}`;
    } catch (error) {
      $('status').textContent = `polling failed: ${error.message}`;
    }
    redraw();
    setTimeout(poll, POLL_MS);
  };
  await checkouts.pickUp();
  await poll();
  for (const button of ['place-one', 'place-burst', 'reload', 'reset', 'checkout-start', 'checkout-reload']) $(button).disabled = false;
  window.demo = { client, lanes, runs, ready: true }; // for the end-to-end tests
}

main().catch((error) => {
  $('status').textContent = `the demo failed to start: ${error.message}`;
  window.demo = { failed: `${error.name}: ${error.message}` };
});
