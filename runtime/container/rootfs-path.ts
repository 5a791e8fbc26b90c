import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { forbidden, isErrno } from '../errors.ts';
import { pathExists } from '../util/fsx.ts';

const MAX_LINKS = 40;

/**
 * Resolve a container path to a host path inside `root`, following symlinks the way the container would
 * see them: absolute targets restart at `root`, `..` never climbs above it. The returned path is always
 * `root` or below it; components that do not exist yet are appended as given. (The host's own symlink
 * resolution is never used on a container path: that is how `docker cp` and friends escaped.)
 */
export async function resolveInRoot(root: string, containerPath: string): Promise<string> {
  const pending = splitPath(containerPath);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let stat;
    try {
      stat = await fs.lstat(candidate);
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
      // The rest does not exist: no links to follow, and `..` in it cannot climb above what exists.
      return path.join(root, ...resolved, path.posix.normalize(`/${[part, ...pending].join('/')}`));
    }
    if (!stat.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links in ${containerPath}`), { code: 'ELOOP' });
    const target = await fs.readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return path.join(root, ...resolved);
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Read a regular file of the container's filesystem (at most `maxBytes`), or undefined when it does not
 * exist. After opening, the descriptor's real path is checked to be inside `root`, so a symlink swapped in
 * between resolution and open cannot make the engine read a host file.
 */
export async function readFileInRoot(root: string, containerPath: string, maxBytes = 4 * 1024 * 1024): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await fs.open(await resolveInRoot(root, containerPath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP')) return undefined;
    throw err;
  }
  try {
    const real = await fs.readlink(`/proc/self/fd/${handle.fd}`);
    if (!real.startsWith(`${root}/`)) throw forbidden(`${containerPath} resolves outside the container`);
    const stat = await handle.stat();
    if (!stat.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(stat.size, maxBytes));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Create a directory (and missing parents) inside the container's filesystem, owned by uid:gid as Docker
 * creates a missing working directory. Only called while no process of the container runs, so nothing can
 * swap a component for a symlink between resolution and creation.
 */
export async function mkdirInRoot(root: string, containerPath: string, uid: number, gid: number): Promise<void> {
  const target = await resolveInRoot(root, containerPath);
  let existing = target;
  const missing: string[] = [];
  while (existing !== root && !(await pathExists(existing))) {
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  for (const dir of missing) {
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.lchown(dir, uid, gid);
  }
}
