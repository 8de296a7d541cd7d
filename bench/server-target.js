// One server under test for server.js and server-cpu.js, in its own process
// (pinned to CPU 1 when taskset exists): a contender's listener
// (server-listener.js) served over HTTP on a free loopback port.
// Prints its port; answers each stdin line with its CPU time; exits when stdin closes.
//   node server-target.js '{"kind":"express"|"fetch","guard":"none"|"durafetch"|"express-idempotency"|"node-idempotency",
//                           "store":"memory"|"redis"|"redis-v4"|"postgres","redisUrl","pgUrl"}'
import http from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';
import { listenerOf } from './server-listener.js';

const listener = await listenerOf(JSON.parse(process.argv[2]));

const server = http.createServer(listener);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
// A line on stdin asks for this process's CPU time so far (bench/server-cpu.js):
// answered as `cpu <user+system µs> <GC pause µs>`; stdin closing ends the process.
let gcMicros = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMicros += e.duration * 1000; }).observe({ entryTypes: ['gc'] });
process.stdin.on('data', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`cpu ${user + system} ${gcMicros.toFixed(0)}\n`);
});
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(0), 10 * 60_000).unref(); // never outlive the benchmark
