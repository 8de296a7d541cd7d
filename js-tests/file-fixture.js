// What the Node test files over a file-system store share: one scripted
// server for the file, and temp dirs, all removed after its tests.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './scripted-server.js';

/** The file's scripted server (started now, closed after its tests) and a
 *  maker of temp dirs named `prefix…` (removed then too). */
export async function fileFixture(prefix) {
  const server = await startTestServer();
  const dirs = [];
  after(async () => {
    await server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  return { server, tempDir };
}
