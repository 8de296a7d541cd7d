// `make bench-server`: only the durafetch/server section (server.js), in a
// fresh process pinned to CPU 0, written to bench/server-results.md with the
// machine's load average: on a shared 2-core machine it moves these figures.
// (`make bench` runs the same section and puts the same table in results.md.)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runSection, hasTaskset } from './lib/child.js';
import { renderServerTable, SERVER_NOTES } from './lib/server-table.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const before = load();
const started = performance.now();
const server = await runSection(fileURLToPath(new URL('server.js', import.meta.url)), { cwd: HERE, timeoutMs: 600_000, pinCpu: 0 });
let commit = 'unknown';
try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const run = `commit ${commit}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, taskset ${hasTaskset() ? 'yes' : 'no'}, ` +
  `${server.rounds} rounds × ${server.perRound} sequential requests per contender, ${new Date().toISOString().slice(0, 16)}Z, ` +
  `${((performance.now() - started) / 1000).toFixed(0)} s, load average before ${before}, after ${load()}`;
const profile = new URL('./server-profile.md', import.meta.url);
const profiles = existsSync(profile) ? `\n${readFileSync(profile, 'utf8')}` : '';
const markdown = `# durafetch/server benchmark\n\n${run}\n\n${renderServerTable(server)}\n\n${SERVER_NOTES}\n${profiles}`;
writeFileSync(new URL('./server-results.md', import.meta.url), markdown);
console.log(markdown);
