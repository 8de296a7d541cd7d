// The loopback HTTP server for loopback.js, run in its own process (pinned to
// its own CPU when taskset exists). Answers every request with a small JSON
// body after reading the request body; prints its port, exits when stdin closes.
import { createServer } from 'node:http';

const ANSWER = Buffer.from('{"ok":true}');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.length });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
setTimeout(() => process.exit(0), 10 * 60_000).unref(); // never outlive the benchmark
