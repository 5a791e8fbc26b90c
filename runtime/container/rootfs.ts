import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.ts';
import { pathExists } from '../util/fsx.ts';
import { isMountPoint, unmount } from './mountinfo.ts';
import { run } from '../util/exec.ts';

/**
 * Docker's init layer: placeholders for what the runtime mounts over (hosts, hostname, resolv.conf, the
 * kernel filesystems, the console), so the mount points exist in every image and `docker diff` (which
 * compares the upper dir with init + image) never reports them. One read-only copy serves every container.
 */
const INIT_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console', '.dockerenv'];
const INIT_DIRS = ['dev/pts', 'dev/shm', 'proc', 'sys', 'etc'];

/** Build the init layer under `dir` once (atomically: built aside, then renamed into place). */
export async function ensureInitLayer(dir: string): Promise<string> {
  if (await pathExists(dir)) return dir;
  const tmp = `${dir}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  for (const d of INIT_DIRS) await fs.mkdir(path.join(tmp, d), { recursive: true, mode: 0o755 });
  for (const f of INIT_FILES) await fs.writeFile(path.join(tmp, f), '', { mode: 0o755 });
  await fs.symlink('/proc/mounts', path.join(tmp, 'etc/mtab'));
  await fs.rename(tmp, dir);
  return dir;
}

/** Where one container's filesystem lives. */
export interface RootfsPaths {
  /** Per-container dir on the quota filesystem holding upper/ and work/. */
  layerDir: string;
  upper: string;
  work: string;
  /** The overlay mount point (the OCI bundle's root). */
  merged: string;
}

/** Create the writable layer's directories (empty upper = a container that has changed nothing yet). */
export async function createWritableLayer(paths: RootfsPaths): Promise<void> {
  await fs.mkdir(paths.upper, { recursive: true, mode: 0o755 });
  await fs.mkdir(paths.work, { recursive: true, mode: 0o700 });
  await fs.mkdir(paths.merged, { recursive: true, mode: 0o755 });
}

/**
 * Mount the container's root: image layers (topmost first) under the init layer, the container's upper dir
 * on top. Layer dirs are passed relative to their common parent (mount runs there), as overlay2 does with its
 * short links, to keep the option string within the one page the kernel accepts.
 */
export async function mountRootfs(imageLowers: readonly string[], initLayer: string, paths: RootfsPaths): Promise<void> {
  if (await isMountPoint(paths.merged)) return;
  const layersRoot = imageLowers.length > 0 ? path.dirname(path.dirname(imageLowers[0]!)) : '/';
  const lowers = [initLayer, ...imageLowers.map((d) => (path.dirname(path.dirname(d)) === layersRoot ? path.relative(layersRoot, d) : d))];
  // index=off: the same lower dirs are mounted by many containers at once (as moby's overlay2 does).
  const options = `lowerdir=${lowers.join(':')},upperdir=${paths.upper},workdir=${paths.work},index=off`;
  if (options.length > 4000) throw new EngineError('INTERNAL', `image has too many layers to mount (${imageLowers.length})`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options, paths.merged], { cwd: layersRoot, timeoutMs: 30_000 });
}

export async function unmountRootfs(paths: RootfsPaths): Promise<void> {
  await unmount(paths.merged);
}

/** Remove the writable layer; the rootfs must be unmounted first. */
export async function removeWritableLayer(paths: RootfsPaths): Promise<void> {
  await unmountRootfs(paths);
  await fs.rm(paths.layerDir, { recursive: true, force: true });
}
