// The soak's browser side: one persistent Chromium context on a profile dir
// that outlives a restart, the soak tabs in it, and the events each tab's
// client emits, forwarded to Node as they happen.
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser/harness.js';

export async function launchContext(profile) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  return context;
}

export async function waitReady(page) {
  await page.waitForFunction(() => window.ready === true || window.failed, null, { timeout: 15_000 });
  const failed = await page.evaluate(() => window.failed);
  if (failed) throw new Error(`soak tab failed to start: ${failed}`);
}

/**
 * A tab sending its share of the orders. `gate` holds new submissions while
 * the tab reloads or the browser restarts; `interrupted` collects orders
 * whose call died with the page (they may or may not have been persisted).
 */
export class SoakTab {
  constructor(name, orders, url, onEvent) {
    this.name = name;
    this.onEvent = onEvent;
    this.url = url;
    this.queue = [...orders];
    this.unresolved = new Set(orders);
    this.inFlight = 0;
    this.interrupted = [];
    this.page = null;
    this.paused = false;
    this.gate = Promise.resolve();
  }

  async open(context) {
    this.page = context.pages().find((p) => p.url() === 'about:blank') ?? await context.newPage();
    this.page.on('pageerror', (e) => console.error(`tab ${this.name} page error:`, e));
    // A raw CDP binding: its calls arrive in order on this session even when
    // the page's context is destroyed right after (unlike exposeBinding's),
    // and it survives reloads.
    const cdp = await context.newCDPSession(this.page);
    cdp.on('Runtime.bindingCalled', ({ name, payload }) => name === 'soakEvent' && this.onEvent(JSON.parse(payload)));
    await cdp.send('Runtime.enable');
    await cdp.send('Runtime.addBinding', { name: 'soakEvent' });
    await this.page.goto(this.url);
    await waitReady(this.page);
  }

  pause() {
    this.paused = true;
    this.gate = new Promise((resolve) => { this.resumeGate = resolve; });
  }

  unpause() {
    this.paused = false;
    this.resumeGate();
  }

  async reload() {
    await this.page.reload();
    await waitReady(this.page);
  }
}
