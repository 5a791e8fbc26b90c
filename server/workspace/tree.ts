import { promises as fsp } from 'node:fs';
import type { FileEntry } from '../protocol.ts';
import { at, lstatAt, openDirAt, toEntry, type Dir } from './dir-fd.ts';
import { WorkspaceError } from './errors.ts';
import { MAX_DEPTH } from './paths.ts';

/** Names the server's atomic saves use for their temp files; never listed or reported. */
export const TEMP_PREFIX = '.layerlab-save-';
const LSTAT_BATCH = 64;

/**
 * Every entry below `dir` (lstat only: links are reported as links, never opened), depth-first, at most
 * `max` entries and MAX_DEPTH levels. An entry swapped or removed while we look is skipped.
 */
export async function listTree(dir: Dir, prefix: string, depth: number, out: FileEntry[], max: number): Promise<void> {
  // opendir streams the names, so a directory with a million entries costs no more than the cap.
  const stream = await fsp.opendir(at(dir), { bufferSize: 64 });
  const names: string[] = [];
  try {
    for await (const dirent of stream) {
      if (out.length + names.length >= max) break;
      if (!dirent.name.startsWith(TEMP_PREFIX)) names.push(dirent.name);
    }
  } finally {
    // A `break` closes the stream already; closing twice throws ERR_DIR_CLOSED.
    await stream.close().catch(() => undefined);
  }
  const dirs: string[] = [];
  // lstat in parallel batches: one at a time costs ~0.1 ms per entry, half a second for a full listing.
  for (let i = 0; i < names.length; i += LSTAT_BATCH) {
    const batch = names.slice(i, i + LSTAT_BATCH);
    const stats = await Promise.all(batch.map((name) => lstatAt(dir, name).catch(() => undefined)));
    batch.forEach((name, j) => {
      const st = stats[j];
      if (!st) return; // removed or swapped while we looked
      out.push(toEntry(prefix + name, st));
      if (st.isDirectory()) dirs.push(name);
    });
  }
  if (depth + 1 >= MAX_DEPTH) return;
  for (const name of dirs) {
    if (out.length >= max) return;
    const sub = await openDirAt(dir, name).catch(() => undefined);
    if (!sub) continue;
    try {
      await listTree(sub, `${prefix}${name}/`, depth + 1, out, max);
    } finally {
      await sub.close();
    }
  }
}

/** How many times an entry that keeps changing type under us is retried before giving up. */
const SWAP_RETRIES = 5;
/** How deep a recursive delete goes (each level holds one descriptor). */
const MAX_REMOVE_DEPTH = 256;

/**
 * Delete `name` in `dir`; a directory recursively, through descriptors: a link (even one swapped in for a
 * directory mid-way) is unlinked itself, never followed, so nothing outside the workspace is touched.
 */
export async function removeAt(dir: Dir, name: string, depth: number, display: string): Promise<void> {
  if (depth > MAX_REMOVE_DEPTH) throw new WorkspaceError(400, `${display}: nested too deeply to delete here; use rm -rf in the terminal`);
  for (let attempt = 0; attempt < SWAP_RETRIES; attempt++) {
    const st = await lstatAt(dir, name);
    if (!st) return;
    if (!st.isDirectory()) {
      // unlink never follows a final link; EISDIR means it became a directory since the lstat.
      if (await retryOn(() => fsp.unlink(at(dir, name)), 'EISDIR')) return;
      continue;
    }
    const sub = await openDirAt(dir, name).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP' || err.code === 'ENOTDIR' || err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!sub) continue; // swapped for a link or a file since the lstat: look again
    try {
      for (const child of await fsp.readdir(at(sub))) await removeAt(sub, child, depth + 1, display);
    } finally {
      await sub.close();
    }
    if (await retryOn(() => fsp.rmdir(at(dir, name)), 'ENOTDIR')) return;
  }
  throw new WorkspaceError(409, `${display}: kept changing while it was being deleted`);
}

/** Run `op`; true when it succeeded (or the entry is already gone), false on the errno worth another look. */
async function retryOn(op: () => Promise<void>, code: string): Promise<boolean> {
  try {
    await op();
    return true;
  } catch (err) {
    const c = (err as NodeJS.ErrnoException).code;
    if (c === 'ENOENT') return true;
    if (c === code) return false;
    throw err;
  }
}
