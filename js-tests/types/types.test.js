// The package's index.d.ts, as a TypeScript user gets it from the installed
// package: consumer.ts must type-check under Node's resolution and a
// bundler's, and each of its @ts-expect-error lines must really be an error
// (so the types are not silently `any`).
import { test, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childTracker, requireBinary, requireFile, PACKAGE_DIR } from '../runtimes/processes.js';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const children = childTracker();
after(() => children.killAll());

for (const config of ['tsconfig.json', 'tsconfig.bundler.json']) {
  test(`tsc --noEmit accepts consumer.ts (${config})`, { timeout: 60_000 }, async () => {
    const tsc = requireBinary('tsc');
    requireFile(`${PACKAGE_DIR}index.d.ts`, 'the installed package\'s index.d.ts', 'rebuild the tarball (make tarball)');
    await children.run(tsc, ['--noEmit', '-p', `${HERE}${config}`], { timeoutMs: 45_000 });
  });
}
