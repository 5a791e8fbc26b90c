import { createWriteStream, constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isErrno } from '../errors.ts';
import { run } from '../util/exec.ts';
import { BULK_STREAM_BYTES } from '../util/fsx.ts';
import { readSafeTar, type ReadOptions, type SafeEntry } from './tar-reader.ts';

export interface ApplyResult {
  entries: number;
  bytes: number;
}

/**
 * Extract a layer tar into `dest`, a fresh directory owned by the engine, in overlayfs form: deletions become
 * whiteouts (character device 0/0) and opaque markers become the `trusted.overlay.opaque` xattr, so the
 * directory can serve directly as an overlay lowerdir.
 *
 * Safety: readSafeTar guarantees every path is inside `dest` and never beneath a symlink the archive planted;
 * `dest` is fresh, so it holds no other links. Files are still opened with O_NOFOLLOW|O_EXCL as a second line.
 */
export async function applyLayer(source: Readable, dest: string, opts: ReadOptions = {}): Promise<ApplyResult> {
  const dirs: SafeEntry[] = [];
  let entries = 0;
  let bytes = 0;
  for await (const entry of readSafeTar(source, opts)) {
    entries++;
    bytes += entry.size;
    const target = path.join(dest, entry.path);
    await ensureParents(dest, entry.path);
    switch (entry.kind) {
      case 'dir':
        await makeDir(target);
        dirs.push(entry);
        break;
      case 'file':
        await removeExisting(target);
        await writeFile(target, entry);
        break;
      case 'symlink':
        await removeExisting(target);
        await fs.symlink(entry.linkTarget, target);
        await fs.lchown(target, entry.uid, entry.gid);
        await fs.lutimes(target, entry.mtime, entry.mtime);
        break;
      case 'hardlink':
        await removeExisting(target);
        await fs.link(path.join(dest, entry.linkTarget), target);
        break;
      case 'fifo':
        await removeExisting(target);
        await run('mknod', ['-m', (entry.mode & 0o777).toString(8), target, 'p']);
        await setOwnerAndTimes(target, entry);
        break;
      case 'whiteout':
        await removeExisting(target);
        await run('mknod', ['-m', '000', target, 'c', '0', '0']);
        await fs.lchown(target, entry.uid, entry.gid);
        break;
      case 'opaque':
        await makeDir(target);
        await run('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', target]);
        break;
    }
  }
  // Directory metadata last, deepest first: writing children would otherwise bump the mtimes again.
  for (const dir of dirs.reverse()) {
    const target = path.join(dest, dir.path);
    await fs.lchown(target, dir.uid, dir.gid);
    await fs.chmod(target, dir.mode);
    await fs.utimes(target, dir.mtime, dir.mtime);
  }
  return { entries, bytes };
}

async function writeFile(target: string, entry: SafeEntry): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await fs.open(target, flags, 0o600);
  await pipeline(entry.body, createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: BULK_STREAM_BYTES }));
  // chown clears set-id bits, so the mode goes on after it.
  await handle.chown(entry.uid, entry.gid);
  await handle.chmod(entry.mode);
  await handle.utimes(entry.mtime, entry.mtime);
  await handle.close();
}

async function setOwnerAndTimes(target: string, entry: SafeEntry): Promise<void> {
  await fs.lchown(target, entry.uid, entry.gid);
  await fs.chmod(target, entry.mode);
  await fs.utimes(target, entry.mtime, entry.mtime);
}

async function makeDir(target: string): Promise<void> {
  try {
    const st = await fs.lstat(target);
    if (st.isDirectory()) return;
    await fs.rm(target, { force: true });
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await fs.mkdir(target, { mode: 0o755 });
}

async function ensureParents(dest: string, rel: string): Promise<void> {
  const parent = path.dirname(rel);
  if (parent === '.') return;
  await fs.mkdir(path.join(dest, parent), { recursive: true, mode: 0o755 });
}

async function removeExisting(target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true });
}
