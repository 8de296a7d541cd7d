// Real Chromium (Debian's, via playwright-core) against the scripted test
// server, which also serves the installed durafetch package and test pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startTestServer } from '../scripted-server.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The installed package's directory: the browser loads exactly what npm installed. */
export const PACKAGE_DIR = dirname(fileURLToPath(import.meta.resolve('durafetch')));

export async function startBrowserServer(options = {}) {
  const here = dirname(fileURLToPath(import.meta.url));
  const statics = { '/pkg/': PACKAGE_DIR, '/page/': join(here, 'pages'), '/workflows/': join(here, '..', 'workflows') };
  return startTestServer({ statics, ...options });
}

/** A browser context with a fresh profile (its own IndexedDB). `options`
 *  go to Playwright's launch (e.g. `ignoreDefaultArgs`). */
export async function launch(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'durafetch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a fresh test server (its own origin: its own IndexedDB), closed after. */
export async function withServer(fn, options) {
  const server = await startBrowserServer(options);
  try { return await fn(server); } finally { await server.close(); }
}

/** Opens a test page (`url`) that sets `window.ready` once its client is made; resolves then. */
export async function openPage(context, url, page) {
  page ??= await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true || window.failed, null, { timeout: 10_000 });
  const failed = await page.evaluate(() => window.failed);
  if (failed) throw new Error(`client failed in the page: ${failed}`);
  return page;
}

/** Opens the test page with a client made from `options`; resolves when it is ready. */
export function openClient(context, server, options = {}, page) {
  return openPage(context, `${server.url}/page/client.html?o=${encodeURIComponent(JSON.stringify(options))}`, page);
}

/** Events the page's client emitted so far, optionally of one type. */
export function pageEvents(page, type) {
  return page.evaluate((t) => window.events.filter((e) => !t || e.event === t), type);
}

/** Reads every record of an IndexedDB object store in the page's origin. */
export function readStore(page, storeName) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const open = indexedDB.open('durafetch');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction(name).objectStore(name).getAll();
      req.onsuccess = () => { db.close(); resolve(JSON.parse(JSON.stringify(req.result, (k, v) => (v instanceof Uint8Array ? [...v] : v)))); };
      req.onerror = () => reject(req.error);
    };
  }), storeName);
}
