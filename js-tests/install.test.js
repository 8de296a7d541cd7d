// A new Node project installs the packed tarball and runs the README's example,
// taken from the README itself (only the URL is pointed at a local server).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './scripted-server.js';

const ROOT = new URL('..', import.meta.url).pathname;
const project = mkdtempSync(join(tmpdir(), 'durafetch-consumer-'));
after(() => rmSync(project, { recursive: true, force: true }));

function readmeExample() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it'));
  return section.match(/```js\n([\s\S]*?)```/)[1];
}

test("a new Node project installs the tarball and runs the README's example", async () => {
  const tarball = readdirSync(join(ROOT, 'build')).find((f) => /^durafetch-.*\.tgz$/.test(f));
  assert.ok(tarball, 'build/durafetch-*.tgz exists (make tarball)');
  execFileSync('npm', ['init', '-y'], { cwd: project, stdio: 'ignore' });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', join(ROOT, 'build', tarball)], { cwd: project, stdio: 'ignore' });

  const server = await startTestServer();
  try {
    const url = server.script('/orders', ['drop', 201]);
    const example = readmeExample().replace('https://api.example.com/orders', url);
    assert.notEqual(example, readmeExample(), 'the example calls the documented URL');
    writeFileSync(join(project, 'example.mjs'), `${example}\nconsole.log(JSON.stringify({ status: res.status }));\n`);
    // Async: the server answering it runs in this process.
    const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: project, timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()), { status: 201 });
    const reqs = server.requests('/orders');
    assert.equal(reqs.length, 2, 'the dropped first attempt was resent');
    assert.equal(reqs[0].key, reqs[1].key);
    assert.deepEqual(JSON.parse(reqs[1].body), { item: 'coffee', qty: 1 });
  } finally {
    await server.close();
  }
});
