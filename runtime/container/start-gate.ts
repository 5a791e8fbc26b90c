import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { run } from '../util/exec.ts';

/**
 * A gate that holds a starting container just before its process runs, so that work the process needs (its
 * network's devices, addresses and rules) goes on side by side with runc's own setup (cgroups, namespaces,
 * mounts: most of a start) instead of before it.
 *
 * runc runs createRuntime hooks once the container's namespaces and mounts are made, before its process
 * starts, and waits for them: the hook reads one word from a FIFO the engine holds open. "open" lets the
 * container run; anything else (or the engine going away: EOF) fails the hook and so the start, and runc
 * cleans up after itself. The FIFO lives in the container's bundle dir, kept across runs.
 */

/** How long runc lets the hook wait (it kills it then): only an engine that died mid-start leaves it this long. */
const HOOK_TIMEOUT_SECONDS = 60;
/** The hook's script: a fixed text, the FIFO's path its only argument ($0); `read` and `[` are dash builtins. */
const HOOK_SCRIPT = 'read -r word < "$0" && [ "$word" = open ]';

/** An OCI hook (config.json `hooks.*[]`). */
export interface OciHook {
  path: string;
  args: string[];
  timeout: number;
}

/** The FIFO a container's gate uses. */
export function gatePath(bundleDir: string): string {
  return path.join(bundleDir, 'start-gate');
}

/**
 * Gate FIFOs made ahead of time, many per `mkfifo` run (Node cannot make a FIFO itself), in a directory on the
 * containers' filesystem so that one can be renamed into a bundle.
 */
export class GateFifos {
  private readonly ready: string[] = [];
  private filling?: Promise<void>;

  constructor(
    private readonly dir: string,
    private readonly batch = 16,
  ) {}

  /** Forget the spares a previous engine process made (their names are random: none is ever reused). */
  async reset(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** Give a container its gate at `fifo`: the one from its earlier runs, or a spare moved there. */
  async ensure(fifo: string): Promise<void> {
    const st = await fs.lstat(fifo).catch(() => undefined);
    if (st?.isFIFO()) return;
    if (st) await fs.rm(fifo, { force: true });
    await fs.mkdir(path.dirname(fifo), { recursive: true, mode: 0o700 });
    for (;;) {
      const spare = this.ready.pop();
      if (spare) return fs.rename(spare, fifo);
      await this.fill();
    }
  }

  private fill(): Promise<void> {
    this.filling ??= (async () => {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      const names = Array.from({ length: this.batch }, () => path.join(this.dir, randomBytes(8).toString('hex')));
      await run('mkfifo', ['-m', '600', ...names]);
      this.ready.push(...names);
    })().finally(() => (this.filling = undefined));
    return this.filling;
  }
}

/** The createRuntime hook that waits at the gate (a host program with a fixed script: nothing of the container's). */
export function gateHook(fifo: string): OciHook {
  return { path: '/bin/sh', args: ['sh', '-c', HOOK_SCRIPT, fifo], timeout: HOOK_TIMEOUT_SECONDS };
}

/** The engine's end of a gate. */
export interface HeldGate {
  /** Open the gate when `work` resolves; keep it shut if it rejects. Once per gate. */
  openWhen(work: Promise<void>): void;
  /** Give up the engine's end: call once runc is past the hook (the container runs) or has exited. */
  close(): Promise<void>;
}

/**
 * Hold the gate: the FIFO is opened read-write (never blocks, and keeps the pipe and the word in it alive
 * until the hook has read it, however late the hook comes); the word is written when the work settles.
 */
export async function holdGate(fifo: string): Promise<HeldGate> {
  const handle = await fs.open(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  let written: Promise<unknown> = Promise.resolve();
  return {
    openWhen(work) {
      // A few bytes into an empty pipe: the write cannot block or be short.
      written = work.then(() => 'open\n', () => 'shut\n').then((word) => handle.write(word));
    },
    async close() {
      await written.catch(() => undefined);
      await handle.close();
    },
  };
}
