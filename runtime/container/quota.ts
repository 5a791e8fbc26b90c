import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.ts';
import { run } from '../util/exec.ts';
import { pathExists } from '../util/fsx.ts';
import { isMountPoint, unmount } from './mountinfo.ts';

/**
 * The size-limited filesystem that holds every writable layer (overlay upper and work dirs) of one runtime.
 *
 * Mechanism: an ext4 filesystem in a preallocated image file, loop-mounted at `<stateDir>/rw`. Chosen
 * because it needs nothing from the host filesystem (the state dir sits on plain ext4 here, where XFS project
 * quotas do not exist and ext4 project quotas need a filesystem built with the feature), overlayfs accepts
 * ext4 as an upper layer on every kernel, and the limit is enforced by the kernel: a container that fills it
 * gets ENOSPC. By default the image is preallocated (fallocate), so the host's free space is taken once, when
 * the runtime is created, and never changes while containers write. With `preallocate: false` (sandboxes)
 * the image is sparse: it takes host space only as containers write, so many sandboxes can each be promised
 * the full quota. That is an overcommit: if the host's disk fills first, a container's write fails with EIO
 * or ENOSPC before its quota is reached, so the host needs free space for the sandboxes' real use, not for
 * the sum of their quotas. One filesystem per runtime (= per sandbox)
 * makes the quota a sandbox quota, as SECURITY.md asks, and costs one loop device per sandbox, not per
 * container.
 */
export class WritableArea {
  private constructor(
    readonly image: string,
    readonly dir: string,
  ) {}

  /** Create (first time) and mount the area; an existing image keeps its content and its original size. */
  static async open(stateDir: string, sizeBytes: number, opts: { preallocate?: boolean } = {}): Promise<WritableArea> {
    const area = new WritableArea(path.join(stateDir, 'rw.img'), path.join(stateDir, 'rw'));
    await fs.mkdir(area.dir, { recursive: true, mode: 0o700 });
    if (await isMountPoint(area.dir)) return area;
    if (!(await pathExists(area.image))) await area.create(sizeBytes, opts.preallocate ?? true);
    // nodev,nosuid: nothing on the host should ever use a device node or set-id file a container wrote here.
    await run('mount', ['-t', 'ext4', '-o', 'loop,nodev,nosuid,noatime', area.image, area.dir]);
    await fs.chmod(area.dir, 0o700);
    return area;
  }

  private async create(sizeBytes: number, preallocate: boolean): Promise<void> {
    const tmp = `${this.image}.tmp`;
    await fs.rm(tmp, { force: true });
    try {
      if (preallocate) await run('fallocate', ['--length', String(sizeBytes), tmp]);
      else await fs.writeFile(tmp, '').then(() => fs.truncate(tmp, sizeBytes));
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'layerlab-rw', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', tmp], { timeoutMs: 120_000 });
      await fs.rename(tmp, this.image);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new EngineError('INTERNAL', `cannot create the containers' writable area (${sizeBytes} bytes): ${(err as Error).message}`, { cause: err });
    }
  }

  /** Free bytes left for writable layers. */
  async freeBytes(): Promise<number> {
    const s = await fs.statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /**
   * Unmount; the loop device goes with it (mount sets autoclear). The image stays for the next start. Never
   * lazily: a detached but still used filesystem mounted again from the same image would be corrupted.
   */
  async close(): Promise<void> {
    await unmount(this.dir, { lazy: false });
  }
}
