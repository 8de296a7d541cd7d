// Bundles the demo page the way an app would use durafetch: `import ... from
// 'durafetch/workflows'` (the page runs a checkout workflow) resolved by
// esbuild to the installed npm package (browser entry), and
// durafetch-workflows.wasm copied beside the bundle, because esbuild keeps
// `new URL('durafetch-workflows.wasm', import.meta.url)` as is instead of emitting it.
// The service worker (src/sw.js, handleBackgroundSync from 'durafetch') is a
// bundle of its own, with the lean durafetch.wasm beside it.
// Run directly: node demo/build.js [outdir]
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.join(HERE, '..');
export const DEFAULT_OUTDIR = path.join(REPO, 'build', 'demo');
const INSTALL_HINT = 'install the package first: make tarball && npm install --no-save ./build/durafetch-0.1.0.tgz';

function installedPackageDir() {
  try {
    return path.dirname(fileURLToPath(import.meta.resolve('durafetch/workflows/durafetch-workflows.wasm')));
  } catch (error) {
    throw new Error(`durafetch is not installed in node_modules: ${INSTALL_HINT}`, { cause: error });
  }
}

/** Bundles `entry` (in src/) as `outfile`, from the installed package. */
async function bundle(entry, outfile) {
  const result = await build({
    entryPoints: [path.join(HERE, 'src', entry)],
    absWorkingDir: REPO,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  // Guard against a stale or local copy: the page must run what npm installed.
  const fromPackage = Object.keys(result.metafile.inputs).some((p) => p.startsWith('node_modules/durafetch/'));
  if (!fromPackage) throw new Error(`the bundle did not take durafetch from node_modules: ${INSTALL_HINT}`);
}

/** Writes app.js and sw.js (+ maps) with their .wasm into `outdir`; returns their paths. */
export async function buildDemo(outdir = DEFAULT_OUTDIR) {
  const packageDir = installedPackageDir();
  await mkdir(outdir, { recursive: true });
  const app = path.join(outdir, 'app.js');
  const worker = path.join(outdir, 'sw.js');
  await bundle('main.js', app);
  await bundle('sw.js', worker);
  const wasm = path.join(outdir, 'durafetch-workflows.wasm');
  await copyFile(path.join(packageDir, 'durafetch-workflows.wasm'), wasm);
  await copyFile(path.join(packageDir, '..', 'durafetch.wasm'), path.join(outdir, 'durafetch.wasm'));
  return { bundle: app, worker, wasm };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { bundle } = await buildDemo(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUTDIR);
  console.log(`built ${path.relative(process.cwd(), bundle)}`);
}
