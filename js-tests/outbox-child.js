// Run as a separate process by outbox.test.js: a client on a FileStore that
// sends one durable POST (mode "send") or resumes what is stored ("resume"),
// printing its events as JSON lines; resuming, it reads the answer through
// result(key) once settled.
import { createClient } from 'durafetch';
import { FileStore } from './file-store.js';

const [mode, dir, url] = process.argv.slice(2);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const client = await createClient({
  store: new FileStore(dir),
  baseDelayMs: 5,
  maxDelayMs: 20,
  beforeReplay: (request) => { request.headers.set('authorization', 'Bearer restored'); },
});
for (const type of ['attempt', 'settled', 'queued', 'giveup']) {
  client.on(type, async (e) => {
    const body = e.response ? await e.response.text() : undefined;
    print({ type, key: e.key, status: e.status, resumed: e.resumed, body });
    if (mode === 'resume' && type === 'settled') {
      // Nobody here called fetch for it: its answer is kept for result(key).
      const kept = await client.result(e.key);
      print({ type: 'result', key: e.key, status: kept?.status, body: await kept?.text() });
      await client.close();
      process.exit(0);
    }
  });
}
if (mode === 'send') {
  await client.fetch(url, {
    method: 'POST', body: JSON.stringify({ charge: 42 }),
    headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json' },
  });
}
