import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Short host tools (ip, mount, iptables, runc kill, …) run through a small perl process, tool-runner.pl.
 *
 * Why not child_process directly: Node forks, and a fork costs the forking process time in proportion to
 * its memory, with its event loop blocked meanwhile: 4–6 ms for an engine of 100–130 MB, more for a server
 * holding many sandboxes, paid several times per container start. The runner is a few MB; the engine only
 * writes a request to a pipe. Processes whose stdio the engine streams (runc run/exec) are still spawned here.
 */

export interface ToolRequest {
  /** Working directory; the runner's (the engine's) by default. */
  cwd?: string;
  /** Written to the tool's stdin, then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** The whole environment; the engine's by default. */
  env?: Record<string, string>;
  timeoutMs: number;
}

export type ToolEnd =
  | { how: 'exited'; code: number }
  | { how: 'signaled'; signal: number }
  | { how: 'timed-out' }
  | { how: 'output-too-large' };

export type ToolResult = ToolEnd & { stdout: Buffer; stderr: Buffer };

const SCRIPT = path.join(import.meta.dirname, 'tool-runner.pl');
const HOW: Array<(code: number) => ToolEnd> = [
  (code) => ({ how: 'exited', code }),
  (signal) => ({ how: 'signaled', signal }),
  () => ({ how: 'timed-out' }),
  () => ({ how: 'output-too-large' }),
];

type RunnerProcess = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  resolve(result: ToolResult): void;
  reject(err: Error): void;
}

/** One runner per engine process, started at first use and again if it dies. */
class ToolRunner {
  private child?: RunnerProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private received: Buffer = Buffer.alloc(0);

  run(argv: readonly string[], req: ToolRequest): Promise<ToolResult> {
    if (argv.some((a) => a.includes('\0'))) return Promise.reject(new Error(`${argv[0]}: an argument contains a NUL byte`));
    const env = req.env && Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    if (env?.some((e) => e.includes('\0'))) return Promise.reject(new Error(`${argv[0]}: the environment contains a NUL byte`));
    const id = this.nextId;
    this.nextId = (this.nextId % 0xfffffffe) + 1;
    const frame = Buffer.concat([
      u32(id),
      u32(Math.max(1, Math.ceil(req.timeoutMs))),
      str(req.cwd ?? ''),
      u32(req.input === undefined ? 0 : 1),
      str(req.input ?? ''),
      u32(env ? 1 : 0),
      str((env ?? []).join('\0')),
      str(argv.join('\0')),
    ]);
    return new Promise((resolve, reject) => {
      const child = this.ensureStarted();
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.setRef(child, true);
      child.stdin.write(Buffer.concat([u32(frame.length), frame]));
    });
  }

  private ensureStarted(): RunnerProcess {
    if (this.child) return this.child;
    // detached: a Ctrl-C meant for the engine's terminal must not kill the tools its shutdown still runs.
    const child = spawn('perl', [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.child = child;
    this.received = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    // A write to a runner that just died fails here; its exit below rejects what was pending.
    child.stdin.on('error', () => undefined);
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(new Error(`the tool runner ${why}`));
    };
    child.on('error', (err) => gone(`could not run: ${err.message}`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.setRef(child, false);
    return child;
  }

  /** An idle runner must not keep the engine's process alive. */
  private setRef(child: RunnerProcess, ref: boolean): void {
    for (const handle of [child, child.stdin, child.stdout] as Array<{ ref(): void; unref(): void }>) {
      if (ref) handle.ref();
      else handle.unref();
    }
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
    while (this.received.length >= 4) {
      const len = this.received.readUInt32BE(0);
      if (this.received.length < 4 + len) break;
      this.settle(this.received.subarray(4, 4 + len));
      this.received = this.received.subarray(4 + len);
    }
  }

  private settle(frame: Buffer): void {
    const id = frame.readUInt32BE(0);
    const how = frame.readUInt32BE(4);
    const code = frame.readUInt32BE(8);
    const outLen = frame.readUInt32BE(12);
    const stdout = Buffer.from(frame.subarray(16, 16 + outLen));
    const stderr = Buffer.from(frame.subarray(20 + outLen, 20 + outLen + frame.readUInt32BE(16 + outLen)));
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0 && this.child) this.setRef(this.child, false);
    p?.resolve({ ...HOW[how]!(code), stdout, stderr });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u32(b.length), b]);
}

const runner = new ToolRunner();

/** Run a host tool by argv (never through a shell) and report how it ended, with its output. */
export function runTool(file: string, args: readonly string[], req: ToolRequest): Promise<ToolResult> {
  return runner.run([file, ...args], req);
}
