import { constants, promises as fs } from 'node:fs';
import { isErrno } from '../errors.ts';

/** Microseconds on the kernel log's clock (time since boot), for "since this start" comparisons. */
export function kernelClockMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * The kernel's OOM kills of one runtime's containers, from the kernel log.
 *
 * Why the kernel log: on cgroup v1 the per-cgroup `oom_kill` counter lives in the container's own memory
 * cgroup, which runc removes the moment the container's init exits, and its OOM notification needs an
 * eventfd that Node cannot create. The kernel records every kill with the victim's cgroup path
 * (`oom-kill:…,task_memcg=/layerlab/<tag>/<id>,…`) before the victim dies, so once the container has
 * exited the record is already there.
 *
 * One descriptor stays open for the runtime's life and is read on demand, non-blocking, to the end of the
 * buffer: each exit reads only the records logged since the previous read (the whole ring buffer, read once
 * per exit, cost tens of milliseconds), and kills under `cgroupPrefix` are remembered until asked for.
 */
export class OomLog {
  private handle?: fs.FileHandle;
  private opened = false;
  /** Serialises reads: records are consumed, so two readers must not interleave. */
  private reading: Promise<void> = Promise.resolve();
  /** Cgroup path → kernel time (µs) of its latest kill. */
  private readonly kills = new Map<string, number>();

  constructor(private readonly cgroupPrefix: string) {}

  /** Start reading what the log holds already, in the background (the first exit then waits less). */
  prime(): void {
    // A failed read leaves the chain usable; that exit just finds no record.
    this.reading = this.reading.then(() => this.drain()).catch(() => undefined);
  }

  /** Did the OOM killer kill a process of this cgroup since `sinceMicros`? Forgets the cgroup's kills. */
  async killedSince(cgroupPath: string, sinceMicros: number): Promise<boolean> {
    this.prime();
    await this.reading;
    const at = this.kills.get(cgroupPath);
    this.kills.delete(cgroupPath);
    return at !== undefined && at >= sinceMicros;
  }

  async close(): Promise<void> {
    await this.reading;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async drain(): Promise<void> {
    if (!this.opened) {
      this.opened = true;
      this.handle = await fs.open('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
    }
    const handle = this.handle;
    if (!handle) return;
    const buf = Buffer.alloc(8192);
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, 0, buf.length, null));
      } catch (err) {
        if (isErrno(err, 'EPIPE')) continue; // records were overwritten while reading: carry on
        if (isErrno(err, 'EAGAIN')) return;
        throw err;
      }
      this.note(buf.toString('utf8', 0, n));
    }
  }

  private note(record: string): void {
    if (!record.includes('oom-kill:')) return;
    const memcg = /task_memcg=([^,\n]*)/.exec(record)?.[1];
    if (!memcg?.startsWith(`${this.cgroupPrefix}/`)) return;
    this.kills.set(memcg, Number(record.split(';', 1)[0]!.split(',')[2]));
  }
}
