// Run as a separate process by workflows.test.js: a client on a FileStore
// with the checkout workflow; "start" starts run `id`, "resume" only creates
// the client (which resumes what is stored) and waits for run `id`.
// Prints workflow events and the outcome as JSON lines.
import { createClient, DurafetchError } from 'durafetch/workflows';
import { FileStore } from '../file-store.js';
import { checkoutWorkflow } from './checkout.js';

const [mode, dir, base, id, version] = process.argv.slice(2);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const client = await createClient({
  store: new FileStore(dir),
  baseDelayMs: 5,
  maxDelayMs: 20,
  attemptTimeoutMs: 60_000,
  workflows: { checkout: checkoutWorkflow(base, { version: Number(version ?? 1) }) },
});
client.on('workflow', (e) => print({ type: 'workflow', ...e }));
const run = mode === 'start'
  ? await client.start('checkout', { order: id, amount: 42 }, { id })
  : client.run(id);
print({ type: 'handle', id: run?.id ?? null });
try {
  print({ type: 'result', value: await run.result() });
} catch (error) {
  const { cause } = error;
  print({
    type: 'error', kind: error.kind, message: error.message, step: error.step, compensated: error.compensated,
    cause: cause && { durafetch: DurafetchError.is(cause), kind: cause.kind, status: cause.status, response: cause.response?.status },
  });
}
process.exit(0);
