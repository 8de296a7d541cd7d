// Where a durafetch/server request spends its CPU: one server-target.js
// (bench/server.js's contender) run under `node --cpu-prof`, loaded with
// fresh-key POSTs at 64 in flight, then its profile summed by function
// (self time). Prints a markdown table of the top items.
//   node bench/server-profile.js '{"kind":"fetch","guard":"durafetch","store":"memory"}' [requests] [top]
// Redis and PostgreSQL contenders get a real server started here.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, startPostgres } from '../js-tests/server/services.js';

const config = JSON.parse(process.argv[2] ?? '{"kind":"fetch","guard":"durafetch","store":"memory"}');
const REQUESTS = Number(process.argv[3] ?? 20_000);
const TOP = Number(process.argv[4] ?? 15);
const WIDTH = 64;
const BODY = JSON.stringify({ item: 'coffee', qty: 1 });

const services = [];
if (/redis/.test(config.store ?? '') || /idempotency/.test(config.guard)) {
  const redis = await startRedis();
  services.push(redis);
  config.redisUrl = redis.url;
}
if (config.store === 'postgres') {
  const postgres = await startPostgres();
  services.push(postgres);
  config.pgUrl = postgres.url;
}

const dir = mkdtempSync(path.join(tmpdir(), 'durafetch-profile-'));
const script = fileURLToPath(new URL('./server-target.js', import.meta.url));
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100', script, JSON.stringify(config)],
  { stdio: ['pipe', 'pipe', 'inherit'] });
const [chunk] = await once(child.stdout, 'data');
const port = Number(String(chunk).trim());
const agent = new http.Agent({ keepAlive: true, maxSockets: WIDTH });
let seq = 0;
const post = () => new Promise((resolve, reject) => {
  seq += 1;
  const req = http.request({ host: '127.0.0.1', port, path: '/orders', method: 'POST', agent, headers: {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), 'idempotency-key': `profile-${process.pid}-${seq}`,
  } }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`)))); });
  req.on('error', reject);
  req.end(BODY);
});
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: WIDTH }, async () => { while (next < REQUESTS) { next += 1; await post(); } }));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
child.stdin.end();
await once(child, 'exit');
for (const s of services) await s.stop();

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
if (process.env.KEEP_PROFILE) console.log(`profile: ${path.join(dir, file)}`); else rmSync(dir, { recursive: true, force: true });
const total = profile.nodes.reduce((sum, n) => sum + n.hitCount, 0);
const byFunction = new Map();
for (const n of profile.nodes) {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/bench\//, 'bench/')}:${lineNumber + 1}` : '';
  const name = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + n.hitCount);
}
const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP);
console.log(`${JSON.stringify(config)}: ${REQUESTS} requests at ${WIDTH} in flight, ${(REQUESTS / seconds).toFixed(0)} req/s under the profiler, ` +
  `${total} samples of 100 µs\n`);
console.log('| self % | function |\n| ---: | --- |');
for (const [name, hits] of rows) console.log(`| ${((100 * hits) / total).toFixed(1)} | \`${name}\` |`);
