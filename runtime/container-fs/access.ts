import path from 'node:path';
import type { ContainerRuntime, RootfsView } from '../container/runtime.ts';
import { release, RootFs, type Node } from './root-fd.ts';

/** Top-level dirs where a running container has kernel filesystems mounted; never read through its root. */
export const KERNEL_DIRS: ReadonlySet<string> = new Set(['proc', 'sys', 'dev']);

/** A container's filesystem opened for one operation, and which view it is. */
export interface OpenedRoot {
  rootfs: RootFs;
  view: RootfsView;
  /** True when this is the running container's own root (`/proc/<pid>/root`: volumes and binds visible). */
  live: boolean;
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
    const rootfs = await RootFs.open(wantsLive ? `/proc/${view.state.Pid}/root` : view.merged);
    try {
      // The pid was read before the open: make sure it still is this container's init (not a reused pid).
      const live = wantsLive && runtime.inspect(view.record.Id).state.Pid === view.state.Pid;
      if (wantsLive && !live) {
        await rootfs.close();
        return await withMerged(view, fn);
      }
      return await fn({ rootfs, view, live });
    } finally {
      await rootfs.close();
    }
  });
}

async function withMerged<T>(view: RootfsView, fn: (opened: OpenedRoot) => Promise<T>): Promise<T> {
  const rootfs = await RootFs.open(view.merged);
  try {
    return await fn({ rootfs, view, live: false });
  } finally {
    await rootfs.close();
  }
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
