// Builds the browser fixtures from the installed package, as an app would,
// into a temp dir (never into the repo): esbuild and Vite each resolve
// `durafetch` through the package's exports map with browser conditions.
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { FIXTURES, PACKAGE_DIR, REPO, requirePackage } from './processes.js';

/** The entry a browser condition set gets from the exports map. */
export function browserEntry() {
  return requirePackage().exports['.'].default.replace(/^\.\//, '');
}

/** Page and both workers, bundled by esbuild into `outdir` with their HTML. */
export async function buildWithEsbuild(outdir) {
  const result = await esbuild({
    entryPoints: {
      main: `${FIXTURES}page/main.js`,
      'dedicated-worker': `${FIXTURES}workers/dedicated-worker.js`,
      'service-worker': `${FIXTURES}workers/service-worker.js`,
    },
    absWorkingDir: REPO,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outdir,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes(`node_modules/durafetch/${browserEntry()}`), `esbuild took the browser entry: ${inputs}`);
  // esbuild keeps `new URL('./durafetch.wasm', import.meta.url)` as is: the
  // app ships the .wasm beside the bundle (as the package's docs say).
  await copyFile(`${PACKAGE_DIR}durafetch.wasm`, path.join(outdir, 'durafetch.wasm'));
  await copyFile(`${PACKAGE_DIR}tracing.js`, path.join(outdir, 'tracing.js'));
  for (const page of ['page/index.html', 'workers/workers.html']) {
    await copyFile(`${FIXTURES}${page}`, path.join(outdir, path.basename(page)));
  }
}

/** The page built by `vite build`, served from `base`; returns what `durafetch` resolved to. */
export async function buildWithVite(outDir, cacheDir, base) {
  const resolved = [];
  const recordResolution = {
    name: 'record-durafetch-resolution',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source !== 'durafetch') return null;
      const found = await this.resolve(source, importer, { ...options, skipSelf: true });
      resolved.push(found?.id);
      return found;
    },
  };
  await viteBuild({
    root: `${FIXTURES}page`,
    base,
    configFile: false,
    envDir: false,
    cacheDir,
    logLevel: 'warn',
    plugins: [recordResolution],
    build: { outDir, emptyOutDir: true },
  });
  return resolved;
}
