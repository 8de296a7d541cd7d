// `make demo`: builds the page, starts the demo and prints the URL to open.
//
// Two copies of the same order API (demo/server.js), so each side of the
// comparison has its own honest server-side count:
//   app   serves the page and its bundle, and takes durafetch's orders;
//   plain takes the plain retry loop's orders (no key), cross-origin.
// The page learns where the plain loop's server listens from /app/config.json.
//
// Run: node demo/main.js [--port 8787] [--seed N] [--redis redis://127.0.0.1:6379]
// (durafetch's keys in Redis instead of the server's memory)
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDemo, DEFAULT_OUTDIR } from './build.js';
import { seededRandom } from './seeded-random.js';
import { startDemoServer } from './server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Builds into `outdir`, starts both servers; `close()` stops them. */
export async function startDemo({ port = 8787, outdir = DEFAULT_OUTDIR, random, plainRandom, redisUrl } = {}) {
  await buildDemo(outdir);
  const plain = await startDemoServer({ port: 0, host: '127.0.0.1', random: plainRandom });
  let app;
  try {
    app = await startDemoServer({
      port, host: '127.0.0.1', random, redisUrl,
      staticRoots: { '/': path.join(HERE, 'public'), '/app/': outdir },
    });
    await writeFile(path.join(outdir, 'config.json'), JSON.stringify({ plainApi: plain.url }));
  } catch (error) {
    await Promise.all([plain.close(), app?.close()]);
    throw error;
  }
  return { url: app.url, app, plain, close: () => Promise.all([app.close(), plain.close()]) };
}

function flag(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const port = Number(flag('--port') ?? process.env.PORT ?? 8787);
  const seed = flag('--seed');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${flag('--port') ?? process.env.PORT}`);
    process.exit(2);
  }
  const random = seed === undefined ? undefined : seededRandom(Number(seed));
  const plainRandom = seed === undefined ? undefined : seededRandom(Number(seed) + 1);
  let demo;
  try {
    demo = await startDemo({ port, random, plainRandom, redisUrl: flag('--redis') });
  } catch (error) {
    console.error(`durafetch demo could not start: ${error.message}`);
    process.exit(1);
  }
  console.log(`durafetch demo: open ${demo.url}   (Ctrl-C to stop)`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
