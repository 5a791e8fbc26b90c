import { EngineError } from '../errors.ts';
import { runTool, type ToolResult } from './tool-runner.ts';

export interface RunOptions {
  input?: string | Buffer;
  /** Working directory; the engine's by default. */
  cwd?: string;
  /** The tool's whole environment; the engine's by default. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Exit codes besides 0 that still count as success (getfattr exits 1 when some files lack the xattr). */
  okExitCodes?: readonly number[];
}

/**
 * Run a host tool by argv, never through a shell, and return its stdout. Only host binaries are run this
 * way; nothing from a container's filesystem is ever executed in the host's context. The error names the
 * tool and carries the end of its stderr.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const what = `${file} ${args.slice(0, 3).join(' ')}`;
  const result = await runTool(file, args, { timeoutMs: opts.timeoutMs ?? 60_000, cwd: opts.cwd, input: opts.input, env: opts.env }).catch((err: Error) => {
    throw new EngineError('INTERNAL', `${what} failed: ${err.message}`, { cause: err });
  });
  if (result.how === 'exited' && (result.code === 0 || opts.okExitCodes?.includes(result.code))) return result.stdout.toString();
  throw new ToolError(`${what} failed: ${failure(result)}`, result.stderr.toString());
}

/** A host tool that failed; its message has the end of `stderr`, which is kept whole here. */
export class ToolError extends EngineError {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super('INTERNAL', message);
  }
}

function failure(result: ToolResult): string {
  const stderr = result.stderr.toString().trim().split('\n').slice(-3).join(' ');
  switch (result.how) {
    case 'exited':
      return stderr || `exit status ${result.code}`;
    case 'signaled':
      return stderr || `killed by signal ${result.signal}`;
    case 'timed-out':
      return 'timed out';
    case 'output-too-large':
      return 'too much output';
  }
}
