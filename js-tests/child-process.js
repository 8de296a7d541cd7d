// A Node script run as a separate process (one a test can SIGKILL mid-request),
// its stdout read as JSON lines; killed if still running after `timeoutMs`.
import { spawn } from 'node:child_process';

export function runScript(script, args, timeoutMs = 20_000) {
  const child = spawn(process.execPath, [script.pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop();
    lines.push(...parts.map((l) => JSON.parse(l)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  exited.then(() => clearTimeout(timer));
  return { child, lines, exited };
}
