import { constants, promises as fsp, type Stats } from 'node:fs';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { forbidden } from '../errors.ts';

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const fstatFd = promisify(fs.fstat);

/** Linux O_PATH: a descriptor that names a file without opening it (x86-64 and arm64 share the value). */
const O_PATH = 0o10000000;
const MAX_LINKS = 40;
/**
 * How deep a walk may go. Every level holds one descriptor, and descriptors are shared by the whole engine
 * process: a container's absurdly deep tree must not starve other operations (or other sandboxes) of them.
 */
export const MAX_DEPTH = 256;

/** `/proc/self/fd/<fd>[/<name>]`: how Node reaches openat()-style lookups relative to a held directory. */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** One file of the tree, held by an O_PATH descriptor, with its path inside the root. */
export interface Node {
  fd: number;
  /** Absolute path inside the root, as the container names it. */
  path: string;
  stat: Stats;
}

/**
 * A container's root filesystem reached only through descriptors, so a container that swaps path
 * components for symlinks while the engine works (CVE-2018-15664) cannot steer it outside:
 * - every lookup is one component, relative to a directory already held open, and never follows a link
 *   (O_PATH|O_NOFOLLOW); a link is read and resolved by this code, absolute targets restarting at the root;
 * - `..` pops the held stack and never reaches the kernel, so it cannot climb above the root;
 * - a component swapped between lookup and use is caught because the use goes through the held descriptor.
 * Nothing is ever executed from the container (CVE-2019-14271): this is plain file I/O in the engine.
 */
export class RootFs {
  private constructor(readonly root: Node) {}

  /** Hold `hostDir` (the overlay mount, or /proc/<pid>/root) as the root. */
  static async open(hostDir: string): Promise<RootFs> {
    const fd = await openFd(hostDir, O_PATH | constants.O_DIRECTORY);
    return new RootFs({ fd, path: '/', stat: await fstatFd(fd) });
  }

  async close(): Promise<void> {
    await closeFd(this.root.fd).catch(() => undefined);
  }

  /** One entry of a held directory, not followed; undefined when it does not exist. */
  async child(dir: Node, name: string): Promise<Node | undefined> {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw forbidden(`invalid file name ${JSON.stringify(name)}`);
    let fd: number;
    try {
      fd = await openFd(fdPath(dir.fd, name), O_PATH | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    return { fd, path: dir.path === '/' ? `/${name}` : `${dir.path}/${name}`, stat: await fstatFd(fd) };
  }

  /**
   * Resolve a container path inside the root. Links in the middle are followed (inside the root); the last
   * component's link only with `followLast`. Undefined when some component does not exist.
   */
  async resolve(containerPath: string, opts: { followLast: boolean }): Promise<Node | undefined> {
    const stack: Node[] = [];
    const top = () => stack[stack.length - 1] ?? this.root;
    const pending = split(containerPath);
    let links = 0;
    try {
      while (pending.length > 0) {
        const part = pending.shift()!;
        if (part === '..') {
          const popped = stack.pop();
          if (popped) await release(popped);
          continue;
        }
        const node = await this.child(top(), part);
        if (!node) return undefined;
        const last = pending.length === 0;
        if (node.stat.isSymbolicLink() && (!last || opts.followLast)) {
          await release(node);
          if (++links > MAX_LINKS) throw forbidden(`too many levels of symbolic links in ${containerPath}`);
          const target = await fsp.readlink(fdPath(top().fd, part)).catch(() => undefined);
          // Swapped for something else since the lookup: look at this component again.
          if (target === undefined) pending.unshift(part);
          else {
            if (target.startsWith('/')) while (stack.length > 0) await release(stack.pop()!);
            pending.unshift(...split(target));
          }
          continue;
        }
        if (!last && !node.stat.isDirectory()) {
          await release(node);
          return undefined;
        }
        stack.push(node);
        if (stack.length > MAX_DEPTH) throw forbidden(`${containerPath} is nested more than ${MAX_DEPTH} levels deep`);
      }
      return stack.pop() ?? (await this.reopenRoot());
    } finally {
      for (const n of stack) await release(n);
    }
  }

  /** Names in a held directory (unsorted). */
  list(dir: Node): Promise<string[]> {
    return fsp.readdir(fdPath(dir.fd));
  }

  /** Open a held regular file for reading; the descriptor is the same inode that was looked up. */
  async openRead(node: Node): Promise<fsp.FileHandle> {
    const handle = await fsp.open(fdPath(node.fd), constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile() || st.ino !== node.stat.ino || st.dev !== node.stat.dev) {
      await handle.close();
      throw forbidden(`${node.path} changed while it was being read`);
    }
    return handle;
  }

  /** The target of a symlink that is an entry of a held directory. */
  readlink(dir: Node, name: string): Promise<string> {
    return fsp.readlink(fdPath(dir.fd, name));
  }

  private async reopenRoot(): Promise<Node> {
    const fd = await openFd(fdPath(this.root.fd), O_PATH | constants.O_DIRECTORY);
    return { fd, path: '/', stat: await fstatFd(fd) };
  }
}

/** Close a node's descriptor (idempotent enough: errors from a double close are ignored). */
export async function release(node: Node): Promise<void> {
  await closeFd(node.fd).catch(() => undefined);
}

function split(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/** Go's os.FileMode bits for a stat (what the archive stat header carries). */
export function goFileMode(st: Stats): number {
  let mode = st.mode & 0o777;
  if (st.mode & 0o4000) mode |= 1 << 23;
  if (st.mode & 0o2000) mode |= 1 << 22;
  if (st.mode & 0o1000) mode |= 1 << 20;
  if (st.isDirectory()) mode |= 2 ** 31;
  else if (st.isSymbolicLink()) mode |= 1 << 27;
  else if (st.isFIFO()) mode |= 1 << 25;
  else if (st.isSocket()) mode |= 1 << 24;
  else if (st.isCharacterDevice()) mode |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) mode |= 1 << 26;
  return mode >>> 0;
}
