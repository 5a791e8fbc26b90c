import path from 'node:path';
import type { ContainerRuntime, RootfsView } from '../container/runtime.ts';
import type { MountPoint } from '../container/types.ts';
import { release, RootFs, type Node } from './root-fd.ts';

/** Top-level dirs where a running container has kernel filesystems mounted; never read through its root. */
export const KERNEL_DIRS: ReadonlySet<string> = new Set(['proc', 'sys', 'dev']);

/** A container's filesystem opened for one operation, and which view it is. */
export interface OpenedRoot {
  rootfs: RootFs;
  view: RootfsView;
  /** True when this is the running container's own root (`/proc/<pid>/root`: volumes and binds visible). */
  live: boolean;
  /** The requested path inside `rootfs` (relative to the volume or bind when the path lies in one). */
  path: string;
  /** The volume or bind mount the path lies in (a stopped container's only). */
  mount?: MountPoint;
}

/**
 * Run `fn` with a container's filesystem held by descriptor. A running container is reached through
 * /proc/<pid>/root, which shows its volumes and bind mounts as the container sees them (what `docker cp`
 * must read and write); a stopped one through its overlay, mounted for the call. Paths under /proc, /sys and
 * /dev go to the overlay even for a running container: the engine must not read kernel files with its own
 * privileges on the container's behalf.
 */
export function withContainerRoot<T>(runtime: ContainerRuntime, idOrName: string, containerPath: string, fn: (opened: OpenedRoot) => Promise<T>): Promise<T> {
  return runtime.withRootfs(idOrName, async (view) => {
    const wantsLive = view.state.Running && view.state.Pid > 0 && !KERNEL_DIRS.has(firstComponent(containerPath));
    if (!wantsLive) return withStopped(view, containerPath, fn);
    const rootfs = await RootFs.open(`/proc/${view.state.Pid}/root`);
    try {
      // The pid was read before the open: make sure it still is this container's init (not a reused pid).
      const live = wantsLive && runtime.inspect(view.record.Id).state.Pid === view.state.Pid;
      if (!live) {
        await rootfs.close();
        return await withStopped(view, containerPath, fn);
      }
      return await fn({ rootfs, view, live, path: containerPath });
    } finally {
      await rootfs.close();
    }
  });
}

/**
 * A container that is not running (or a path under its kernel dirs): its overlay, or, for a path inside one
 * of its volumes or bind mounts, that mount's host directory, so `docker cp` reaches the data the container
 * will see there. (A link elsewhere in the rootfs that leads into a mount is resolved in the overlay.)
 */
async function withStopped<T>(view: RootfsView, containerPath: string, fn: (opened: OpenedRoot) => Promise<T>): Promise<T> {
  const mount = mountFor(view.record.MountPoints ?? [], containerPath);
  const rootfs = await RootFs.open(mount ? mount.point.Source : view.merged);
  try {
    return await fn({ rootfs, view, live: false, path: mount ? mount.rest : containerPath, ...(mount ? { mount: mount.point } : {}) });
  } finally {
    await rootfs.close();
  }
}

/** The deepest mount whose destination holds `containerPath`, and the path below it (trailing `/`, `/.` kept). */
function mountFor(mounts: readonly MountPoint[], containerPath: string): { point: MountPoint; rest: string } | undefined {
  const clean = path.posix.normalize(`/${containerPath}`).replace(/\/+$/, '') || '/';
  const tail = /\/\.?$/.exec(containerPath)?.[0] ?? '';
  let best: MountPoint | undefined;
  for (const m of mounts) {
    const inside = clean === m.Destination || clean.startsWith(`${m.Destination}/`);
    if (inside && (!best || m.Destination.length > best.Destination.length)) best = m;
  }
  if (!best) return undefined;
  return { point: best, rest: `/${clean.slice(best.Destination.length).replace(/^\//, '')}${tail}` };
}

/**
 * Look up `containerPath` as `docker cp` does: links in the middle followed (inside the root), the last one
 * not (unless the path ends in `/` or `/.`). Returns the entry and the held directory it is in; a path
 * that leads into a live root's kernel filesystems counts as missing.
 */
export async function lookup(opened: OpenedRoot, containerPath: string): Promise<{ parent: Node; node: Node } | undefined> {
  const followLast = /\/\.?$/.test(containerPath);
  const clean = path.posix.normalize(`/${containerPath}`);
  if (clean === '/') {
    const node = await opened.rootfs.resolve('/', { followLast: true });
    const parent = await opened.rootfs.resolve('/', { followLast: true });
    return node && parent ? { parent, node } : undefined;
  }
  const parent = await opened.rootfs.resolve(path.posix.dirname(clean), { followLast: true });
  if (!parent) return undefined;
  if (!parent.stat.isDirectory() || (opened.live && KERNEL_DIRS.has(firstComponent(parent.path)))) {
    await release(parent);
    return undefined;
  }
  let node = await opened.rootfs.child(parent, path.posix.basename(clean));
  if (node && followLast && node.stat.isSymbolicLink()) {
    await release(node);
    node = await opened.rootfs.resolve(clean, { followLast: true });
  }
  if (!node || (opened.live && KERNEL_DIRS.has(firstComponent(node.path)))) {
    if (node) await release(node);
    await release(parent);
    return undefined;
  }
  return { parent, node };
}

function firstComponent(p: string): string {
  return p.split('/').find((s) => s !== '' && s !== '.') ?? '';
}
