import { constants, promises as fs } from 'node:fs';
import { isErrno } from '../errors.ts';

/** Microseconds on the kernel log's clock (time since boot), for "since this start" comparisons. */
export function kernelClockMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Did the kernel's OOM killer kill a process of this cgroup since `sinceMicros`?
 *
 * Why the kernel log: on cgroup v1 the per-cgroup `oom_kill` counter lives in the container's own memory
 * cgroup, which runc removes the moment the container's init exits, and its OOM notification needs an
 * eventfd that Node cannot create. The kernel records every kill with the victim's cgroup path
 * (`oom-kill:…,task_memcg=/layerlab/<tag>/<id>,…`) before the victim dies, so once the container has
 * exited the record is already there. Read on demand, non-blocking, to the end of the buffer.
 */
export async function oomKilledSince(cgroupPath: string, sinceMicros: number): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  const needle = `task_memcg=${cgroupPath},`;
  const buf = Buffer.alloc(8192);
  try {
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, 0, buf.length, null));
      } catch (err) {
        if (isErrno(err, 'EPIPE')) continue; // records were overwritten while reading: carry on
        if (isErrno(err, 'EAGAIN')) return false;
        throw err;
      }
      const record = buf.toString('utf8', 0, n);
      if (!record.includes('oom-kill:') || !record.includes(needle)) continue;
      const ts = Number(record.split(';', 1)[0]!.split(',')[2]);
      if (ts >= sinceMicros) return true;
    }
  } finally {
    await handle.close();
  }
}
