// Runs one benchmark section in a fresh Node process and returns the JSON it
// prints on its last stdout line; its other output is passed through.
import { spawn, spawnSync } from 'node:child_process';

export function runSection(script, { nodeArgs = [], pinCpu, cwd, timeoutMs = 180_000 } = {}) {
  const command = pinCpu !== undefined && hasTaskset() ? 'taskset' : process.execPath;
  const args = command === 'taskset'
    ? ['-c', String(pinCpu), process.execPath, ...nodeArgs, script]
    : [...nodeArgs, script];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n');
      const last = lines.pop();
      if (lines.length) process.stderr.write(lines.join('\n') + '\n');
      if (code !== 0) return reject(new Error(`${script} exited with ${signal ?? code}`));
      try { resolve(JSON.parse(last)); } catch { reject(new Error(`${script} printed no JSON: ${last}`)); }
    });
  });
}

let tasksetFound;
export function hasTaskset() {
  if (tasksetFound === undefined) {
    tasksetFound = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  }
  return tasksetFound;
}
