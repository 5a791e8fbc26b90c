import { execFile } from 'node:child_process';
import { EngineError } from '../errors.ts';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Exit codes besides 0 that still count as success (getfattr exits 1 when some files lack the xattr). */
  okExitCodes?: readonly number[];
}

/**
 * Run a host tool by argv, never through a shell, and return its stdout. Only host binaries are run this
 * way; nothing from a container's filesystem is ever executed in the host's context.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 };
    const child = execFile(file, args, options, (err, stdout, stderr) => {
      const code = typeof err?.code === 'number' ? err.code : undefined;
      if (!err || (code !== undefined && opts.okExitCodes?.includes(code))) {
        resolve(String(stdout));
        return;
      }
      const detail = String(stderr).trim().split('\n').slice(-3).join(' ') || err.message;
      reject(new EngineError('INTERNAL', `${file} ${args.slice(0, 3).join(' ')} failed: ${detail}`, { cause: err }));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
