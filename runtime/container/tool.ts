import { execFile } from 'node:child_process';
import { EngineError } from '../errors.ts';

/**
 * Run a host tool by argv (never a shell) in a given directory and return its stdout; the error carries the
 * tool's last stderr line. Only host binaries are run; nothing from a container's filesystem.
 */
export function runIn(cwd: string, file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(String(stdout));
      const detail = String(stderr).trim().split('\n').pop() || err.message;
      reject(new EngineError('INTERNAL', `${file} ${args[0] ?? ''} failed: ${detail}`, { cause: err }));
    });
  });
}
