import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import pty from 'node-pty';
import { EngineError } from '../errors.ts';
import { runTool, streamTool } from '../util/tool-runner.ts';

/** A foreground runc process (`runc run` or `runc exec`): the container process's parent and its shim. */
export interface RuncProcess {
  /** Pid of runc itself. */
  pid: number;
  /** stdout, or with a TTY everything the terminal shows. */
  stdout: Readable;
  /** stderr; null with a TTY (the terminal merges it into stdout). */
  stderr: Readable | null;
  /** The process's stdin; null when it was started without one (it reads /dev/null). */
  stdin: Writable | null;
  /** Set the terminal size (TTY only; a no-op otherwise). */
  resize(cols: number, rows: number): void;
  /** runc's own exit: for run and exec it is the container process's status (128+n for signal n). */
  exited: Promise<{ code: number }>;
}

export interface SpawnOptions {
  tty: boolean;
  stdin: boolean;
  logFile: string;
  cols?: number;
  rows?: number;
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

/**
 * runc driven by argv, with its state under `root` and JSON logs per container.
 *
 * Why foreground `runc run`/`runc exec` and not create/start/--detach: a detached container's init is
 * re-parented to the host's PID 1, and its exit status is lost to the engine (Node can neither become a child
 * subreaper nor reap a process it did not spawn). In the foreground, runc stays the container's parent (it
 * makes itself a subreaper), forwards signals, reports the exit status as its own and removes the
 * container's cgroups and state when it ends: it is the per-container shim. A TTY in this mode needs a host
 * terminal for runc to copy to, which node-pty provides; resizing that terminal makes runc resize the
 * container's (runc handles SIGWINCH). runc's --console-socket is for detached mode only, so it is not used.
 * Without a TTY, runc is the tool runner's child (it reports runc's status): the engine is not forked.
 */
export class Runc {
  constructor(
    readonly binary: string,
    readonly root: string,
  ) {}

  private globalArgs(logFile: string): string[] {
    return ['--root', this.root, '--log', logFile, '--log-format', 'json'];
  }

  /** Start a foreground runc subcommand with the container process's stdio attached to it. */
  async spawn(args: string[], opts: SpawnOptions): Promise<RuncProcess> {
    const argv = [...this.globalArgs(opts.logFile), ...args];
    return opts.tty ? spawnTty(this.binary, argv, opts) : spawnPiped(this.binary, argv, opts);
  }

  /** Run a short runc subcommand (kill, delete, state, pause, …) and return its stdout. */
  async call(args: string[], logFile: string, timeoutMs = 30_000): Promise<string> {
    const result = await runTool(this.binary, [...this.globalArgs(logFile), ...args], { env: ENV, timeoutMs }).catch((err: Error) => {
      throw new EngineError('INTERNAL', `runc ${args[0]}: ${err.message}`, { cause: err });
    });
    if (result.how === 'exited' && result.code === 0) return result.stdout.toString();
    const detail = (await lastRuncError(logFile)) ?? (result.stderr.toString().trim().split('\n').pop() || `runc ended: ${result.how}`);
    throw new EngineError('INTERNAL', `runc ${args[0]}: ${detail}`);
  }

  /** True while runc keeps state for the container (its directory in the root). */
  async has(id: string): Promise<boolean> {
    return fs.access(path.join(this.root, id)).then(() => true, () => false);
  }

  /** IDs of the containers runc knows in this root. */
  async list(logFile: string): Promise<string[]> {
    const out = await this.call(['list', '--format', 'json'], logFile);
    const parsed = JSON.parse(out.trim() || 'null') as Array<{ id: string }> | null;
    return (parsed ?? []).map((c) => c.id);
  }
}

/**
 * runc with pipes, started by the tool runner (no fork of the engine), in a session of its own so that the
 * engine's terminal signals (Ctrl-C) do not reach containers.
 */
async function spawnPiped(binary: string, argv: string[], opts: SpawnOptions): Promise<RuncProcess> {
  const tool = await streamTool(binary, argv, { env: ENV, stdin: opts.stdin });
  tool.stdin?.on('error', () => undefined);
  // A runner that died took runc's status with it: the container runs on, and counts as killed (137) once
  // its output ends.
  const exited = tool.closed.then((e) => ({ code: e?.how === 'exited' ? e.code : e?.how === 'signaled' ? 128 + e.signal : 137 }));
  // Read at once into buffers (as a child process's output would be): the pipes then reach their end, and
  // `exited`, however late the engine attaches its readers.
  const stdout = tool.stdout.pipe(new PassThrough());
  const stderr = tool.stderr.pipe(new PassThrough());
  return { pid: tool.pid, stdout, stderr, stdin: tool.stdin, resize: () => undefined, exited };
}

function spawnTty(binary: string, argv: string[], opts: SpawnOptions): RuncProcess {
  const term = pty.spawn(binary, argv, { cols: opts.cols || 80, rows: opts.rows || 24, env: ENV, encoding: null, name: 'xterm' });
  const stdout = new PassThrough();
  term.onData((data) => stdout.write(data));
  const exited = new Promise<{ code: number }>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      stdout.end();
      resolve({ code: signal ? 128 + signal : exitCode });
    });
  });
  const stdin = opts.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, done) {
          term.write(chunk);
          done();
        },
      })
    : null;
  return { pid: term.pid, stdout, stderr: null, stdin, resize: (cols, rows) => term.resize(Math.max(1, cols), Math.max(1, rows)), exited };
}

/** The message of the last error runc logged in `logFile` (its JSON log), if any. */
export async function lastRuncError(logFile: string): Promise<string | undefined> {
  let text: string;
  try {
    const handle = await fs.open(logFile, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - 16384);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      text = buf.toString();
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) return entry.msg;
    } catch {
      continue;
    }
  }
  return undefined;
}
