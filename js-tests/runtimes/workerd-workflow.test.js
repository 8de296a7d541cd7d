// A workflow run in a Durable Object (real workerd) survives workerd being
// killed in the middle of a step: the object's storage holds the run's
// journal; workerd starts again on the same on-disk storage, and the next
// client in the object resumes the run at the interrupted step, with the
// same idempotency key, without resending the step that had completed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, until } from '../scripted-server.js';
import { workerdConfig } from './workerd-config.js';
import { askWorker, bundleForWorkerd, serveWorkerd } from './workerd-run.js';
import { childTracker, requireBinary, requirePackage } from './processes.js';

let server;
let dir;
const children = childTracker();
before(async () => {
  requirePackage();
  server = await startTestServer();
  dir = await mkdtemp(path.join(tmpdir(), 'durafetch-workerd-workflow-'));
});
after(async () => {
  children.killAll();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('workerd: a workflow run in a Durable Object is resumed after workerd is killed mid-step', { timeout: 60_000 }, async () => {
  const workerd = requireBinary('workerd');
  // Step 2's first send is applied and never answered; its resend gets a 200.
  server.script('/shop/holds', ['hold', 200]);
  const files = await bundleForWorkerd('workerd-workflow-worker.js', dir);
  const storageDir = path.join(dir, 'do-storage');
  await mkdir(storageDir);
  const durableObject = { className: 'Checkout', binding: 'CHECKOUT', storageDir };
  await writeFile(path.join(dir, 'config.capnp'),
    workerdConfig({ ...files, origin: server.url, compatibilityDate: '2025-06-01', durableObject }));

  const first = await serveWorkerd(children, workerd, dir);
  // Never answered: the run waits on step 2 until workerd dies under it.
  const cutOff = fetch(`http://127.0.0.1:${first.port}/start?id=order-7`).then(
    (r) => r.text().then((text) => `answered ${r.status}: ${text}`), (error) => error);
  await until(() => server.requests('/shop/holds').length === 1, 15_000, 'step 2 sent from workerd');
  first.run.child.kill('SIGKILL');
  const killed = await first.run.done;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(await cutOff instanceof Error, `the /start request was cut off: ${await cutOff}`);

  const second = await serveWorkerd(children, workerd, dir);
  const resumed = await askWorker(second.run, second.port, '/resume?id=order-7');
  assert.equal(resumed.ok, true, `the resumed run ended: ${JSON.stringify(resumed)}`);

  const charges = server.requests('/shop/charges');
  const holds = server.requests('/shop/holds');
  const ships = server.requests('/shop/shipments');
  assert.equal(charges.length, 1, 'step 1 completed before the kill: replayed from the journal, not resent');
  assert.equal(holds.length, 2, 'step 2 sent again after the restart');
  assert.equal(holds[1].key, holds[0].key, 'with the same key');
  assert.match(holds[0].key, /:s1:0$/, 'the key of step 2 of the run');
  assert.deepEqual([...server.effects('/shop/holds').values()], [1], 'step 2 applied once');
  assert.equal(ships.length, 1);
  assert.deepEqual(resumed.value, { charge: charges[0].key, hold: holds[0].key, ship: 200 }, 'the run\'s result');
  assert.deepEqual(resumed.events,
    ['step-started reserve', 'step-completed reserve', 'step-started ship', 'step-completed ship', 'completed']);
  assert.equal(resumed.state, 'completed');
  assert.deepEqual(resumed.unfinished, []);
  assert.equal(resumed.state, 'completed');
  assert.deepEqual(resumed.stored.map(({ key, run }) => [key, run]), [["run order-7", true]],
    'the outbox is empty; the ended run stays in storage until ttlMs');
});
