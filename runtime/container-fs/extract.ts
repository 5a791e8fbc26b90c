import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArchiveLimits } from '../archive/limits.ts';
import { readSafeTar, type SafeEntry } from '../archive/tar-reader.ts';
import { entryBody } from '../archive/tar-writer.ts';
import { invalid } from '../errors.ts';
import { fdPath, release, type Node, type RootFs } from './root-fd.ts';

const LABEL = 'archive';

/**
 * Extract an uploaded tar (`docker cp` into a container) under the held directory `dest`. The tar is
 * hostile (readSafeTar: no `..`, no absolute names, no devices, nothing beneath a link the archive itself
 * planted, capped entries and bytes) and so is the container, which may swap directories for links while
 * this runs: every entry's parent is looked up afresh through descriptors inside the root, and every
 * change is made relative to that held parent without following a link (O_NOFOLLOW, O_EXCL, lchown), so
 * nothing is ever written outside the container.
 */
export async function extractInto(rootfs: RootFs, dest: Node, source: Readable, opts: { noOverwriteDirNonDir: boolean; copyUidGid: boolean; limits: ArchiveLimits }): Promise<void> {
  for await (const entry of readSafeTar(source, { limits: opts.limits, label: LABEL })) {
    if (entry.kind === 'whiteout' || entry.kind === 'opaque' || entry.kind === 'fifo') continue;
    const target = path.posix.join(dest.path, entry.path);
    const parent = await rootfs.resolve(path.posix.dirname(target), { followLast: true });
    if (!parent || !parent.stat.isDirectory()) {
      if (parent) await release(parent);
      throw invalid(`cannot extract ${entry.path}: its parent directory does not exist in the container`);
    }
    try {
      const owner = opts.copyUidGid ? { uid: entry.uid, gid: entry.gid } : { uid: 0, gid: 0 };
      await writeEntry(rootfs, parent, path.posix.basename(target), entry, owner, opts.noOverwriteDirNonDir, dest.path);
    } finally {
      await release(parent);
    }
  }
}

async function writeEntry(rootfs: RootFs, parent: Node, name: string, entry: SafeEntry, owner: { uid: number; gid: number }, noOverwrite: boolean, destPath: string): Promise<void> {
  const at = fdPath(parent.fd, name);
  const existing = await rootfs.child(parent, name);
  if (existing) await release(existing);
  const shown = path.posix.join(parent.path, name);
  if (entry.kind === 'dir') {
    if (existing && !existing.stat.isDirectory()) {
      if (noOverwrite) throw invalid(`cannot overwrite non-directory "${shown}" with directory "${shown}"`);
      await fsp.unlink(at);
    }
    if (!existing?.stat.isDirectory()) await fsp.mkdir(at, { mode: 0o700 });
    const handle = await fsp.open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      await handle.chown(owner.uid, owner.gid);
      await handle.chmod(entry.mode & 0o7777);
    } finally {
      await handle.close();
    }
    return;
  }
  if (existing?.stat.isDirectory()) throw invalid(`cannot overwrite directory "${shown}" with non-directory "${shown}"`);
  if (existing) await fsp.unlink(at);
  if (entry.kind === 'file') await writeFile(at, entry, owner);
  else if (entry.kind === 'symlink') {
    await fsp.symlink(entry.linkTarget, at);
    await fsp.lchown(at, owner.uid, owner.gid);
  } else if (entry.kind === 'hardlink') {
    await linkTo(rootfs, path.posix.join(destPath, entry.linkTarget), at);
  }
}

/** A new file, created exclusively and without following links, then given the entry's mode and owner. */
async function writeFile(at: string, entry: SafeEntry, owner: { uid: number; gid: number }): Promise<void> {
  const handle = await fsp.open(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of entryBody(entry.body, LABEL)) await handle.write(chunk);
    await handle.chown(owner.uid, owner.gid);
    await handle.chmod(entry.mode & 0o7777);
    await handle.utimes(entry.mtime, entry.mtime);
  } finally {
    await handle.close();
  }
}

/** A hard link to a file extracted earlier; link(2) never follows a link at its source's last component. */
async function linkTo(rootfs: RootFs, targetPath: string, at: string): Promise<void> {
  const dir = await rootfs.resolve(path.posix.dirname(targetPath), { followLast: true });
  if (!dir) throw invalid(`cannot extract a hard link to ${targetPath}: it does not exist`);
  try {
    await fsp.link(fdPath(dir.fd, path.posix.basename(targetPath)), at);
  } finally {
    await release(dir);
  }
}
