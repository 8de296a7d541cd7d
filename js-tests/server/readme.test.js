// The README's Server example, taken from the README itself, runs as a user
// would write it: a Node server whose handler runs once per key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './services.js';
import { until } from './cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-readme-server-'));
let child;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test("the README's two-line server example deduplicates by key", { timeout: 30_000 }, async () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const example = readme.slice(readme.indexOf('## Server')).match(/```js\n([\s\S]*?)```/)[1];
  const port = await freePort();
  const code = example.replace(".listen(8080, '127.0.0.1')", `.listen(${port}, '127.0.0.1')`);
  assert.notEqual(code, example, 'the example listens where the test says');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'server.mjs'), code);
  child = spawn(process.execPath, ['server.mjs'], { cwd: dir, stdio: 'ignore' });
  const order = () => fetch(`http://127.0.0.1:${port}/orders`, {
    method: 'POST', headers: { 'idempotency-key': 'readme-1', 'content-type': 'application/json' }, body: '{"item":"coffee"}',
  });
  const first = await until(() => order().catch(() => undefined), 'the example server listens');
  assert.equal(first.status, 201);
  const created = await first.json();
  assert.equal(created.item, 'coffee');
  const again = await order();
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(await again.json(), created, 'the same order, not a second one');
});
