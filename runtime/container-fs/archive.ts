import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArchiveLimits } from '../archive/limits.ts';
import type { ContainerRuntime } from '../container/runtime.ts';
import { forbidden, invalid, notFound } from '../errors.ts';
import { rfc3339Nano } from '../container/json-log.ts';
import { KERNEL_DIRS, lookup, withContainerRoot, type OpenedRoot } from './access.ts';
import { extractInto } from './extract.ts';
import { packTree } from './pack-tree.ts';
import { goFileMode, release, type Node } from './root-fd.ts';

/** The `X-Docker-Container-Path-Stat` payload (engine-api-facts §7.17). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** dockerd's 404 text for a missing path (the CLI turns it into "No such container:path: …"). */
function missing(containerPath: string, idOrName: string): Error {
  return notFound(`Could not find the file ${containerPath} in container ${idOrName}`);
}

/** `HEAD /containers/{id}/archive`: stat a path inside the container. */
export function statContainerPath(runtime: ContainerRuntime, idOrName: string, containerPath: string): Promise<PathStat> {
  return withContainerRoot(runtime, idOrName, containerPath, async (opened) => {
    const found = await lookup(opened, opened.path);
    if (!found) throw missing(containerPath, idOrName);
    try {
      return await statOf(opened, found.node, containerPath);
    } finally {
      await release(found.node);
      await release(found.parent);
    }
  });
}

/**
 * `GET /containers/{id}/archive`: a tar of the path (a file as its base name, a directory as `name/…`),
 * handed to `send` with its stat; the container's filesystem stays held until `send` has finished.
 */
export function getContainerArchive(runtime: ContainerRuntime, idOrName: string, containerPath: string, send: (stat: PathStat, tar: Readable) => Promise<void>): Promise<void> {
  return withContainerRoot(runtime, idOrName, containerPath, async (opened) => {
    const found = await lookup(opened, opened.path);
    if (!found) throw missing(containerPath, idOrName);
    try {
      const stat = await statOf(opened, found.node, containerPath);
      const skipAtRoot = opened.live ? KERNEL_DIRS : new Set<string>();
      const tar = packTree(opened.rootfs, found.node, archiveName(containerPath), { skipAtRoot }, found.parent);
      await send(stat, tar);
    } finally {
      await release(found.node);
      await release(found.parent);
    }
  });
}

export interface PutArchiveOptions {
  noOverwriteDirNonDir: boolean;
  copyUidGid: boolean;
  limits: ArchiveLimits;
}

/** `PUT /containers/{id}/archive`: extract an uploaded tar into an existing directory of the container. */
export function putContainerArchive(runtime: ContainerRuntime, idOrName: string, containerPath: string, source: Readable, opts: PutArchiveOptions): Promise<void> {
  return withContainerRoot(runtime, idOrName, containerPath, async (opened) => {
    if (opened.mount && !opened.mount.RW) throw forbidden('mounted volume is marked read-only');
    if (opened.view.record.HostConfig.ReadonlyRootfs && !opened.live && !opened.mount) throw forbidden('container rootfs is marked read-only');
    const dest = await opened.rootfs.resolve(opened.path, { followLast: true });
    if (!dest || (opened.live && KERNEL_DIRS.has(dest.path.split('/')[1] ?? ''))) {
      if (dest) await release(dest);
      throw missing(containerPath, idOrName);
    }
    try {
      if (!dest.stat.isDirectory()) throw invalid('extraction point is not a directory');
      await extractInto(opened.rootfs, dest, source, opts);
    } finally {
      await release(dest);
    }
  });
}

/** The name the archive gives the copied path: its base name (`.` for `dir/.`, `/` for the root). */
function archiveName(containerPath: string): string {
  if (/(^|\/)\.$/.test(containerPath)) return '.';
  const base = path.posix.basename(path.posix.normalize(`/${containerPath}`));
  return base === '' ? '/' : base;
}

async function statOf(opened: OpenedRoot, node: Node, containerPath: string): Promise<PathStat> {
  let linkTarget = '';
  if (node.stat.isSymbolicLink()) {
    // Where the link leads inside the container, as dockerd reports it (the CLI follows it with -L).
    const target = await opened.rootfs.resolve(node.path, { followLast: true });
    linkTarget = target ? target.path : '';
    if (target) await release(target);
  }
  const base = path.posix.basename(path.posix.normalize(`/${containerPath}`)) || '/';
  return { name: base, size: node.stat.size, mode: goFileMode(node.stat), mtime: rfc3339Nano(Math.floor(Number(node.stat.mtimeMs) * 1000)), linkTarget };
}
