// Runs every benchmark section, each in a fresh Node process, and prints ONE
// Markdown table (also written to bench/results.md) with every figure and its
// ratio to the peers measured in the same run. Usage: node bench/run.js
// (make bench installs bench/'s pinned peers and the durafetch tarball first).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runSection, hasTaskset } from './lib/child.js';
import { buildRows, renderTable } from './lib/results-table.js';
import { renderServerTable, SERVER_NOTES } from './lib/server-table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SECTIONS = [
  // [key, script, options]: CPU-bound sections run pinned to CPU 0 (the loopback server gets CPU 1).
  ['cpu', 'cpu.js', { pinCpu: 0 }],
  ['abort', 'abort.js', { pinCpu: 0 }],
  ['loopback', 'loopback.js', { pinCpu: 0 }],
  ['durable', 'durable.js', {}],
  ['cold', 'cold-start.js', {}],
  ['scale', 'outbox-scale.js', { timeoutMs: 900_000 }],
  ['size', 'size.js', {}],
  ['memory', 'memory.js', { nodeArgs: ['--expose-gc'] }],
  // durafetch/server (issue 11): its own table below.
  ['server', 'server.js', { pinCpu: 0 }],
];

const results = {};
const failures = [];
const started = performance.now();
for (const [key, script, options] of SECTIONS) {
  const t0 = performance.now();
  process.stderr.write(`bench: ${script} ...`);
  try {
    results[key] = await runSection(fileURLToPath(new URL(script, import.meta.url)), { cwd: HERE, timeoutMs: 300_000, ...options });
    process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  } catch (error) {
    failures.push(`${script}: ${error.message}`);
    process.stderr.write(` FAILED: ${error.message}\n`);
  }
}

function describeRun() {
  const wasm = readFileSync(new URL('./node_modules/durafetch/durafetch.wasm', import.meta.url));
  const version = JSON.parse(readFileSync(new URL('./node_modules/durafetch/package.json', import.meta.url), 'utf8')).version;
  let commit = 'unknown';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  const chromium = results.durable?.version ?? results.cold?.chromium?.version ?? 'n/a';
  return `durafetch ${version} (commit ${commit}, durafetch.wasm sha256 ${createHash('sha256').update(wasm).digest('hex').slice(0, 12)}), ` +
    `Node ${process.version}, Chromium ${chromium}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `taskset ${hasTaskset() ? 'yes' : 'no'}, ${new Date().toISOString().slice(0, 16)}Z, ` +
    `whole run ${((performance.now() - started) / 1000).toFixed(0)} s`;
}

const NOTES = `Produced by \`make bench\` (= \`node bench/run.js\` after installing bench/'s pinned peers and the durafetch tarball). ` +
  'Compare ratios within one run, never absolute times across runs. A peer cell\'s "×N" is durafetch\'s figure ÷ that peer\'s. ' +
  'CPU: stub fetch that returns a ready Response, 25,000 timed calls per contender in interleaved rounds, one process. ' +
  'Loopback: Node\'s fetch against a server in another process, every contender draining the body; ratios are medians of per-round ratios. ' +
  'Durable: one Chromium page (cross-origin isolated, so timers are 5 µs) and a same-origin server on 127.0.0.1 answering 200 at once; ' +
  'added latency = the durable POST\'s percentile minus the memory-store POST\'s, the contenders interleaved call by call ' +
  'Sustained: one pool of 16 in flight (HTTP/1.1: Chromium opens at most 6 connections per origin); ' +
  'outbox puts/deletes counted on IDBObjectStore.prototype, the outbox counted in IndexedDB and through pending() after. ' +
  'ky 1.14 and cockatiel 3.2 are their last releases that support Node 20. axios uses its fetch adapter.';

const table = renderTable(buildRows(results));
const failed = failures.length ? `\n\nSections that failed: ${failures.join('; ')}` : '';
const server = `## durafetch/server: added latency and throughput per store\n\n${renderServerTable(results.server)}\n\n${SERVER_NOTES}`;
const twiggy = readFileSync(new URL('./twiggy.md', import.meta.url), 'utf8').trim();
// Written by `cargo run --release --example herd` (make bench runs it first).
const herd = readFileSync(new URL('./herd.md', import.meta.url), 'utf8').trim();
const markdown = `# durafetch benchmarks\n\n${describeRun()}\n\n${table}\n\n${NOTES}\n\n${twiggy}\n\n## Load on a recovering server (bench/herd.rs)\n\n${herd}\n\n${server}${failed}\n`;
writeFileSync(new URL('./results.md', import.meta.url), markdown);
console.log(markdown);
process.exitCode = failures.length ? 1 : 0;
