// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core,
// with a fresh profile per test file so no cache, service worker or storage
// leaks from one run into the next.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { requireFile } from './processes.js';

const EXECUTABLE = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium() {
  requireFile(EXECUTABLE, 'Chromium', 'run `make chromium` (apt-get install -y chromium chromium-driver)');
  const profile = await mkdtemp(path.join(tmpdir(), 'durafetch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE, args: ARGS, headless: true, timeout: 30_000,
  });
  context.setDefaultTimeout(30_000);
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return {
    context,
    /** Uncaught errors from pages and workers, for failure messages. */
    errors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens `url` and runs the scenario the page exposes as `globalThis.durafetchScenario`
 *  (or another of its scenarios, by name). */
export async function runPageScenario(browser, url, scenario = 'durafetchScenario') {
  const page = await browser.context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  try {
    await page.waitForFunction(() => typeof globalThis.durafetchScenario === 'function', null, { timeout: 15_000 });
  } catch (error) {
    throw new Error(`${url} never exposed its scenario: ${logs.join('\n')}`, { cause: error });
  }
  const result = await page.evaluate((name) => globalThis[name](), scenario);
  return { page, result, logs };
}

/** Console errors and warnings other than the one the dropped answer causes. */
export function unexpectedLogs(logs) {
  return logs.filter((l) => /^(error|warning|pageerror)/.test(l) && !l.includes('net::ERR_EMPTY_RESPONSE'));
}
