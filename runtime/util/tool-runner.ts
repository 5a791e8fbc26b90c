import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Host programs started through a small perl process, tool-runner.pl, instead of by the engine itself.
 *
 * Why not child_process directly: Node forks, and a fork costs the forking process time in proportion to its
 * memory, with its event loop blocked meanwhile: 3–6 ms for an engine of 100–150 MB, more for a server
 * holding many sandboxes, paid by every ip, mount, iptables and runc run of a container start. The runner
 * is a few MB; the engine only writes a request to a pipe.
 *
 * Short tools are captured (runTool: input in, output and status back). runc run/exec are streamed
 * (streamTool): the runner makes their stdio pipes and the engine opens its ends of them through
 * /proc/<runner>/fd (a pipe opened there is the same pipe), so the container sees plain pipes, as under
 * Docker. Only TTY programs (node-pty) are still forked by the engine.
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

export interface StreamRequest {
  /** The whole environment; the engine's by default. */
  env?: Record<string, string>;
  /** Give the program a stdin pipe (else /dev/null). */
  stdin: boolean;
}

/** A streamed program: running in a session of its own, its stdio pipes the engine's. */
export interface StreamedTool {
  pid: number;
  /** null without a stdin pipe, or when the program closed it before the engine could open it. */
  stdin: net.Socket | null;
  stdout: net.Socket;
  stderr: net.Socket;
  /** How it ended; rejects if the runner died first (the program's end is then unknown). */
  ended: Promise<ToolEnd>;
  /**
   * A child process's 'close': it has ended and its stdout and stderr have been read to their end. Resolves
   * with how it ended, or undefined if the runner died first.
   */
  closed: Promise<ToolEnd | undefined>;
  /** SIGKILL it, if it still runs (never another process that got its pid since). */
  kill(): void;
}

const SCRIPT = path.join(import.meta.dirname, 'tool-runner.pl');
const Op = { captured: 0, streamed: 1, release: 2, kill: 3 } as const;
const STARTED = 4;
const NO_FD = 0xffffffff;
const HOW: Array<(code: number) => ToolEnd> = [
  (code) => ({ how: 'exited', code }),
  (signal) => ({ how: 'signaled', signal }),
  () => ({ how: 'timed-out' }),
  () => ({ how: 'output-too-large' }),
];

type RunnerProcess = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  started?(pid: number, fds: readonly number[]): void;
  ended(result: ToolResult): void;
  failed(err: Error): void;
}

interface Request {
  op: number;
  id: number;
  timeoutMs?: number;
  cwd?: string;
  input?: string | Buffer;
  stdinPipe?: boolean;
  env?: Record<string, string>;
  argv?: readonly string[];
}

/** One runner per engine process, started at first use and again if it dies. */
class ToolRunner {
  private child?: RunnerProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Reply bytes not yet taken as frames, and the length of the frame being received (once its header is in). */
  private received: Buffer[] = [];
  private receivedBytes = 0;
  private frameLength?: number;

  run(argv: readonly string[], req: ToolRequest): Promise<ToolResult> {
    return new Promise((resolve, reject) => {
      const id = this.newId();
      this.send({ op: Op.captured, id, argv, ...req, timeoutMs: Math.max(1, Math.ceil(req.timeoutMs)), stdinPipe: req.input !== undefined }, { ended: resolve, failed: reject });
    });
  }

  stream(argv: readonly string[], req: StreamRequest): Promise<StreamedTool> {
    return new Promise((resolve, reject) => {
      let resolveEnd!: (end: ToolEnd) => void;
      let rejectEnd!: (err: Error) => void;
      const ended = new Promise<ToolEnd>((res, rej) => ((resolveEnd = res), (rejectEnd = rej)));
      // A program that never started has no end to report; it is the start that fails.
      ended.catch(() => undefined);
      const id = this.newId();
      let running = false;
      const started = (pid: number, fds: readonly number[]) => {
        running = true;
        const kill = () => this.send({ op: Op.kill, id });
        try {
          const ends = this.openEnds(fds, req.stdin);
          const closing = [ends.stdout, ends.stderr].map((s) => new Promise<void>((done) => s.once('close', () => done())));
          const closed = Promise.all([ended.catch(() => undefined), ...closing]).then(([end]) => end);
          resolve({ pid, ...ends, ended, closed, kill });
        } catch (err) {
          // Without its stdio the program is no use to anyone: stop it (its end is still reported).
          kill();
          reject(err as Error);
        } finally {
          this.send({ op: Op.release, id });
        }
      };
      this.send({ op: Op.streamed, id, argv, env: req.env, stdinPipe: req.stdin, timeoutMs: 0 }, {
        started,
        // Ended without a start: the runner could not start it (no descriptors or processes left).
        ended: (r) => (running ? resolveEnd(r) : reject(new Error(`${argv[0]}: ${r.stderr.toString().trim() || 'could not start'}`))),
        failed: (err) => (rejectEnd(err), reject(err)),
      });
    });
  }

  private newId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xfffffffe) + 1;
    return id;
  }

  private send(req: Request, pending?: Pending): void {
    const argv = req.argv ?? [];
    const env = req.env && Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    if (argv.some((a) => a.includes('\0')) || env?.some((e) => e.includes('\0'))) {
      pending?.failed(new Error(`${argv[0]}: an argument or the environment contains a NUL byte`));
      return;
    }
    const frame = Buffer.concat([
      u32(req.op),
      u32(req.id),
      u32(req.timeoutMs ?? 0),
      str(req.cwd ?? ''),
      u32(req.stdinPipe ? 1 : 0),
      str(req.input ?? ''),
      u32(env ? 1 : 0),
      str((env ?? []).join('\0')),
      str(argv.join('\0')),
    ]);
    const child = this.ensureStarted();
    if (pending) {
      this.pending.set(req.id, pending);
      if (this.pending.size === 1) this.setRef(child, true);
    }
    child.stdin.write(Buffer.concat([u32(frame.length), frame]));
  }

  /** The engine's own ends of a streamed program's pipes, opened through the runner's descriptors. */
  private openEnds(fds: readonly number[], wantStdin: boolean): Pick<StreamedTool, 'stdin' | 'stdout' | 'stderr'> {
    const at = (fd: number) => `/proc/${this.child!.pid}/fd/${fd}`;
    const reader = (fd: number) => new net.Socket({ fd: openSync(at(fd), constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
    const stdout = reader(fds[1]!);
    const stderr = reader(fds[2]!);
    let stdin: net.Socket | null = null;
    if (wantStdin && fds[0] !== NO_FD) {
      try {
        stdin = new net.Socket({ fd: openSync(at(fds[0]!), constants.O_WRONLY | constants.O_NONBLOCK), readable: false, writable: true });
      } catch {
        // ENXIO: no reader left, the program is gone already; there is nothing to write to.
      }
    }
    return { stdin, stdout, stderr };
  }

  private ensureStarted(): RunnerProcess {
    if (this.child) return this.child;
    // detached: a Ctrl-C meant for the engine's terminal must not kill the tools its shutdown still runs.
    const child = spawn('perl', [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.child = child;
    this.received = [];
    this.receivedBytes = 0;
    this.frameLength = undefined;
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    // A write to a runner that just died fails here; its exit below fails what was pending.
    child.stdin.on('error', () => undefined);
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.failed(new Error(`the tool runner ${why}`));
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

  /** Chunks are joined once per whole frame: a tool's large output arrives in many of them. */
  private onData(chunk: Buffer): void {
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    for (;;) {
      if (this.frameLength === undefined) {
        if (this.receivedBytes < 4) return;
        this.frameLength = this.take(4).readUInt32BE(0);
      }
      if (this.receivedBytes < this.frameLength) return;
      const frame = this.take(this.frameLength);
      this.frameLength = undefined;
      this.settle(frame);
    }
  }

  private take(n: number): Buffer {
    const all = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received, this.receivedBytes);
    this.received = n < all.length ? [all.subarray(n)] : [];
    this.receivedBytes -= n;
    return all.subarray(0, n);
  }

  private settle(frame: Buffer): void {
    const id = frame.readUInt32BE(0);
    const how = frame.readUInt32BE(4);
    const code = frame.readUInt32BE(8);
    const outLen = frame.readUInt32BE(12);
    const stdout = Buffer.from(frame.subarray(16, 16 + outLen));
    const stderr = Buffer.from(frame.subarray(20 + outLen, 20 + outLen + frame.readUInt32BE(16 + outLen)));
    const p = this.pending.get(id);
    if (how === STARTED) {
      p?.started?.(code, [0, 4, 8].map((at) => stdout.readUInt32BE(at)));
      return;
    }
    this.pending.delete(id);
    if (this.pending.size === 0 && this.child) this.setRef(this.child, false);
    p?.ended({ ...HOW[how]!(code), stdout, stderr });
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

/** Start a host program by argv with pipes for its stdio, in a session of its own; resolves once it runs. */
export function streamTool(file: string, args: readonly string[], req: StreamRequest): Promise<StreamedTool> {
  return runner.stream([file, ...args], req);
}
