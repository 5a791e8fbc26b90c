import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrno } from '../errors.ts';

/**
 * Buffer size for streams that copy bulk file content: a write stream then gathers the many small chunks of a
 * tar or socket into one writev instead of a syscall per 16 KiB chunk (several times faster for large files).
 */
export const BULK_STREAM_BYTES = 1024 * 1024;

/** A unique temp name next to `target`, so that a rename onto `target` stays on one filesystem. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}-${randomBytes(6).toString('hex')}`);
}

/**
 * Write a file so that readers see either the old content or the new, never a torn file, even if the process
 * dies at any point: write a temp file, fsync it, rename it over the target, fsync the directory.
 */
export async function atomicWriteFile(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(target);
  const handle = await fs.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncPath(path.dirname(target));
}

/**
 * Flush a file or a directory to disk: a finished file before it is renamed into place (so a crash cannot
 * leave it torn), a directory after a rename in it (so the new name survives).
 */
export async function syncPath(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Remove temp files a crash left behind (names made by tempPathFor) in one directory. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  await Promise.all(names.filter((n) => n.startsWith('.tmp-')).map((n) => fs.rm(path.join(dir, n), { recursive: true, force: true })));
}
