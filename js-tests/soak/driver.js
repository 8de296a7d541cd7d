// Drives the soak: each tab submits its orders with bounded concurrency,
// while a chaos loop reloads tabs and restarts the browser at seeded moments.
// An order whose call died with its page is reconciled afterwards: if its
// record is in the outbox or the server saw it, durafetch owns it (it will be
// resent); otherwise it was never persisted and the "user" submits it again.
import { launchContext } from './tabs.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(predicate, ms, what) {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export class Driver {
  constructor({ server, tabs, profile, concurrency, deadline }) {
    Object.assign(this, { server, tabs, profile, concurrency, deadline });
    this.submitted = 0;
    this.outcomes = { live: 0, queued: 0, interrupted: 0, accepted: 0, resubmitted: 0 };
    this.history = new Map(); // order -> what its submissions ended with
    this.unexpected = []; // results that are neither a response nor 'queued'
    this.chaosLog = []; // { type, tab?, start, end }
    this.context = null;
  }

  async start() {
    this.context = await launchContext(this.profile);
    for (const tab of this.tabs) await tab.open(this.context);
  }

  async worker(tab) {
    while (tab.unresolved.size > 0) {
      if (Date.now() > this.deadline) throw new Error(`tab ${tab.name}: orders still unsubmitted at the deadline`);
      await tab.gate;
      const order = tab.queue.shift();
      if (order === undefined) {
        await sleep(20); // the rest are in flight or being reconciled
        continue;
      }
      tab.inFlight++;
      this.submitted++;
      let result;
      try {
        result = await tab.page.evaluate((o) => (window.soakSend ? window.soakSend(o) : { notReady: true }),
          { clientOrderId: order, tab: tab.name, item: `widget-${order % 97}` });
      } catch (e) {
        result = { died: e.message.split('\n')[0] };
      } finally {
        tab.inFlight--;
      }
      const ended = result.status ?? result.error?.kind ?? (result.died ? 'died' : 'not-ready');
      this.history.set(order, [...(this.history.get(order) ?? []), `${ended}@${Date.now()}`]);
      if (result.status !== undefined) {
        this.outcomes.live++;
        if (result.status !== 201) this.unexpected.push({ order, result });
        tab.unresolved.delete(order);
      } else if (result.error?.kind === 'queued') {
        this.outcomes.queued++;
        tab.unresolved.delete(order);
      } else if (tab.paused) {
        this.outcomes.interrupted++;
        tab.interrupted.push(order);
      } else {
        this.unexpected.push({ order, result });
        await this.reconcile(tab, [order]);
      }
    }
  }

  async reconcile(tab, orders) {
    if (orders.length === 0) return;
    // The outbox first, then the server: a record leaves the outbox only
    // after the server answered it, so nothing slips between the two reads.
    const stored = new Set((await tab.page.evaluate(() => window.outboxOrders())).map((r) => r.order));
    for (const order of orders) {
      if (stored.has(order) || this.server.keysByOrder.has(order)) {
        this.outcomes.accepted++;
        tab.unresolved.delete(order);
      } else {
        this.outcomes.resubmitted++;
        tab.queue.unshift(order);
      }
    }
  }

  async afterInterruption(tabs) {
    await until(() => tabs.every((t) => t.inFlight === 0), 30_000, 'interrupted calls to return');
    for (const tab of tabs) await this.reconcile(tab, tab.interrupted.splice(0));
    for (const tab of tabs) tab.unpause();
  }

  async reloadTab(tab) {
    const entry = { type: 'reload', tab: tab.name, start: Date.now() };
    tab.pause();
    await tab.reload();
    entry.end = Date.now();
    this.chaosLog.push(entry);
    await this.afterInterruption([tab]);
  }

  /** Closes the whole browser and relaunches it on the same profile dir. */
  async restart() {
    const entry = { type: 'restart', start: Date.now() };
    for (const tab of this.tabs) tab.pause();
    await this.context.close();
    this.context = await launchContext(this.profile);
    for (const tab of this.tabs) await tab.open(this.context);
    entry.end = Date.now();
    this.chaosLog.push(entry);
    await this.afterInterruption(this.tabs);
  }

  /** Runs each chaos action once `submitted` passes its threshold. */
  async chaos(schedule) {
    for (const action of schedule) {
      await until(() => this.submitted >= action.at, this.deadline - Date.now(), `submission #${action.at}`);
      if (action.type === 'restart') await this.restart();
      else await this.reloadTab(this.tabs[action.tab]);
    }
  }

  async run(schedule) {
    const workers = this.tabs.flatMap((tab) => Array.from({ length: this.concurrency }, () => this.worker(tab)));
    await Promise.all([...workers, this.chaos(schedule)]);
  }

  async close() {
    await this.context?.close().catch(() => {});
  }
}
