// Headless Chromium through playwright-core and the system browser (never a
// downloaded one), with a persistent profile in a fresh temporary folder so
// IndexedDB is on disk as for a real visitor. Returns { context: null,
// missing } where there is no browser.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium() {
  if (!existsSync(EXECUTABLE)) return { context: null, missing: `no browser at ${EXECUTABLE} (make chromium)` };
  const profile = mkdtempSync(join(tmpdir(), 'durafetch-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: EXECUTABLE, args: ARGS });
  return {
    context,
    version: context.browser()?.version() ?? 'unknown',
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page (its own renderer process, so a cold V8) with the HTTP cache off. */
export async function freshPage(context, url) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(url);
  return page;
}
