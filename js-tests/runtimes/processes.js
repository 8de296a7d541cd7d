// Runtime binaries and the child processes that run them: found in the
// repo's node_modules (the Makefile installs them with `npm ci`), bounded in
// time, and killed by the test's `after` hook whatever happened.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const NODE_MODULES = `${REPO}node_modules/`;
/** The package as a user installed it (from build/durafetch-*.tgz). */
export const PACKAGE_DIR = `${NODE_MODULES}durafetch/`;

/** Fails loudly, never skips, when something the test needs is missing. */
export function requireFile(path, what, fix) {
  if (!existsSync(path)) throw new Error(`${what} is missing (${path}): ${fix}`);
  return path;
}

export function requireBinary(name) {
  return requireFile(`${NODE_MODULES}.bin/${name}`, `the ${name} binary`, 'run `npm ci` (make tools)');
}

export function requirePackage() {
  requireFile(`${PACKAGE_DIR}package.json`, 'the installed durafetch package',
    'run `make tarball && npm install --no-save ./build/durafetch-0.1.0.tgz`');
  return JSON.parse(readFileSync(`${PACKAGE_DIR}package.json`, 'utf8'));
}

/** Tracks every child a test file starts so `after` can kill them all. */
export function childTracker() {
  const children = new Set();

  /** Starts `cmd`; `done` resolves with { code, signal, stdout, stderr } when it exits. */
  function start(cmd, args, { timeoutMs, ...options }) {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    const done = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        children.delete(child);
        const output = { code, signal, stdout, stderr };
        if (timedOut) reject(new Error(`${cmd} ${args.join(' ')} killed after ${timeoutMs} ms\n${stderr}`));
        else resolve(output);
      });
    });
    return { child, done, output: () => ({ stdout, stderr }) };
  }

  /** Runs `cmd` to its end; rejects unless it exits 0. */
  async function run(cmd, args, options) {
    const result = await start(cmd, args, options).done;
    if (result.code !== 0) {
      throw new Error(`${cmd} ${args.join(' ')} exited ${result.code ?? result.signal}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  }

  function killAll() {
    for (const child of children) child.kill('SIGKILL');
  }

  return { start, run, killAll };
}

/** The last line of `stdout` that parses as JSON: what a fixture reported. */
export function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try { return JSON.parse(line); } catch { /* not the report */ }
  }
  throw new Error(`no JSON report in output:\n${stdout}`);
}
