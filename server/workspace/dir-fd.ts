import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileEntry } from '../protocol.ts';
import { fromErrno, WorkspaceError } from './errors.ts';

/**
 * Descriptor-relative access to the workspace. The learner is root in a shell that mounts the workspace
 * read-write, so any component of any path may be a link, or be swapped for one while we work. Node has no
 * openat(), so every lookup goes through `/proc/self/fd/<dirfd>/<name>`: the kernel follows the magic link
 * to the directory we hold (the one we checked), then resolves exactly one name in it. Directories are
 * opened with O_NOFOLLOW|O_DIRECTORY, so a link in the middle of a path is refused, never followed; a
 * final name handed to unlink/rename/mkdir/rmdir/lstat is not followed by those calls either.
 */
export type Dir = fsp.FileHandle;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The path that names `name` inside the held directory `dir` (or the directory itself). */
export function at(dir: Dir, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dir.fd}` : `/proc/self/fd/${dir.fd}/${name}`;
}

/** Open the workspace root itself (a path the server made, not a learner). */
export function openRoot(root: string): Promise<Dir> {
  return fsp.open(root, DIR_FLAGS);
}

/** Open the directory `name` inside `dir`; a link there fails (ELOOP/ENOTDIR) instead of being followed. */
export function openDirAt(dir: Dir, name: string): Promise<Dir> {
  return fsp.open(at(dir, name), DIR_FLAGS);
}

/** lstat of one name in a held directory; undefined when it does not exist. */
export async function lstatAt(dir: Dir, name: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(at(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Hold the directory that contains the last of `parts` (walked from `root` one component at a time) and
 * call `fn` with it and the last name. Every descriptor is closed before this returns. Errno errors the
 * learner can cause (the directory deleted under us, a name swapped) become WorkspaceErrors.
 */
export async function withParent<T>(root: string, parts: string[], display: string, fn: (dir: Dir, name: string) => Promise<T>): Promise<T> {
  const dir = await openDirPath(root, parts.slice(0, -1), display);
  try {
    return await fn(dir, parts[parts.length - 1]!);
  } catch (err) {
    throw err instanceof WorkspaceError ? err : fromErrno(err, display);
  } finally {
    await dir.close();
  }
}

/** Open the directory `parts` below `root`, never following a link; errors become WorkspaceErrors. */
export async function openDirPath(root: string, parts: string[], display: string): Promise<Dir> {
  let dir = await openRoot(root);
  try {
    for (const part of parts) {
      const next = await openDirAt(dir, part);
      await dir.close();
      dir = next;
    }
    return dir;
  } catch (err) {
    await dir.close();
    throw fromErrno(err, display);
  }
}

/** Create (if missing) and open the directory `name` in `dir`: mode 0755 whatever the umask. */
export async function ensureDirAt(dir: Dir, name: string): Promise<{ dir: Dir; created: boolean }> {
  let created = false;
  try {
    await fsp.mkdir(at(dir, name), 0o755);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const sub = await openDirAt(dir, name);
  // fchmod on the descriptor we opened without following links, never chmod by path (it would follow one).
  if (created) await sub.chmod(0o755).catch(async (err: unknown) => {
    await sub.close();
    throw err;
  });
  return { dir: sub, created };
}

/** The protocol's view of one lstat. */
export function toEntry(path: string, st: Stats): FileEntry {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { path, type, size: type === 'dir' ? 0 : st.size, mtimeMs: st.mtimeMs };
}
