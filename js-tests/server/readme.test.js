// The package's README (the one npm shows, in the installed tarball) is a
// user's whole manual: it has the client's API, workflows and the server
// section, names every export of durafetch/server, links nowhere into the
// repository, and its Node example runs as a user would write it: a server
// whose handler runs once per key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './services.js';
import { until } from './cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const installed = path.dirname(createRequire(import.meta.url).resolve('durafetch/package.json'));
const readme = readFileSync(path.join(installed, 'README.md'), 'utf8');
const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-readme-server-'));
let child;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the package README is the whole manual: client, workflows, server, every server export, no repository links', async () => {
  for (const heading of ['## Use it', '## Workflows', '## Guarantees and their limits', '## Server: `durafetch/server`', '### The key on the wire', '### Stores']) {
    assert.ok(readme.includes(`\n${heading}`), `has ${heading}`);
  }
  const server = readme.slice(readme.indexOf('## Server'));
  for (const name of Object.keys(await import('durafetch/server'))) {
    assert.ok(server.includes(name), `the server section names ${name}`);
  }
  for (const fact of ['lockTimeoutMs', 'maxRequestBytes', 'replicas', 'clock_timestamp()', 'TIME', 'release', '403', '413', 'createCluster', 'ioredis']) {
    assert.ok(server.includes(fact), `the server section says ${fact}`);
  }
  assert.deepEqual(readme.match(/\]\((?!https?:|#)[^)]*\)/g) ?? [], [], 'no link into the repository (the tarball has none of it)');
  assert.ok(!readme.includes('How it is tested'), 'the repository\'s own test table stays in the repository');
  assert.ok(!readme.includes('See the project README'));
});

test("the package README's two-line server example deduplicates by key", { timeout: 30_000 }, async () => {
  const server = readme.slice(readme.indexOf('## Server'));
  const example = [...server.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('.listen(8080'));
  assert.ok(example, 'a Node example that listens');
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
