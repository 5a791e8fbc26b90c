import type { FileHandle } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { addEntry, addStream, type TarHeader } from '../archive/tar-writer.ts';
import { forbidden } from '../errors.ts';
import { MAX_DEPTH, release, type Node, type RootFs } from './root-fd.ts';

export interface PackTreeOptions {
  /** Names directly under the root to leave out (kernel filesystems of a running container). */
  skipAtRoot?: ReadonlySet<string>;
}

/**
 * Tar a tree of a container's filesystem (`docker cp` out, `docker export`), reached only through held
 * descriptors (root-fd.ts): `name` is the archive name of `node`; '' names its children directly (export),
 * '/' names them `/child` (what the CLI's rebase expects for `docker cp c:/ dir`); `parent`, the held directory `node` is in, lets a link at
 * the top be stored too. Links are stored as links, never followed; hard links
 * within the tree stay links; sockets and device nodes are left out. The caller keeps `rootfs` open until
 * the stream ends; the stream errors if the walk fails.
 */
export function packTree(rootfs: RootFs, node: Node, name: string, opts: PackTreeOptions = {}, parent?: Node): Readable {
  const pack = tarStream.pack();
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  pack.pipe(out);
  const walker = new Walker(rootfs, pack, opts);
  void walker
    .entry(node, name, parent)
    .then(() => pack.finalize())
    .catch((err: Error) => pack.destroy(err));
  return out;
}

class Walker {
  private readonly links = new Map<string, string>();

  constructor(
    private readonly rootfs: RootFs,
    private readonly pack: tarStream.Pack,
    private readonly opts: PackTreeOptions,
  ) {}

  /** Add `node` as `name`; `parent` is the held directory it was found in (for reading a link's target). */
  async entry(node: Node, name: string, parent: Node | undefined): Promise<void> {
    const st = node.stat;
    const base: TarHeader = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) {
      if (name !== '' && name !== '/') await addEntry(this.pack, { ...base, name: `${name}/`, type: 'directory' });
      await this.children(node, name);
    } else if (st.isFile()) {
      await this.file(node, base);
    } else if (st.isSymbolicLink() && parent) {
      await addEntry(this.pack, { ...base, type: 'symlink', linkname: await this.rootfs.readlink(parent, node.path.slice(node.path.lastIndexOf('/') + 1)) });
    } else if (st.isFIFO()) {
      await addEntry(this.pack, { ...base, type: 'fifo' });
    }
  }

  private async children(dir: Node, name: string): Promise<void> {
    if (name.split('/').length > MAX_DEPTH) throw forbidden(`${dir.path} is nested more than ${MAX_DEPTH} levels deep`);
    const names = (await this.rootfs.list(dir)).sort();
    for (const child of names) {
      if (dir.path === '/' && this.opts.skipAtRoot?.has(child)) continue;
      const node = await this.rootfs.child(dir, child);
      if (!node) continue; // deleted while the walk ran
      try {
        await this.entry(node, name === '' || name === '/' ? `${name}${child}` : `${name}/${child}`, dir);
      } finally {
        await release(node);
      }
    }
  }

  private async file(node: Node, base: TarHeader): Promise<void> {
    const key = `${node.stat.dev}:${node.stat.ino}`;
    const first = node.stat.nlink > 1 ? this.links.get(key) : undefined;
    if (first !== undefined) {
      await addEntry(this.pack, { ...base, type: 'link', linkname: first });
      return;
    }
    if (node.stat.nlink > 1) this.links.set(key, base.name);
    const handle = await this.rootfs.openRead(node);
    try {
      const size = (await handle.stat()).size;
      await addStream(this.pack, { ...base, type: 'file', size }, exactly(handle, size));
    } finally {
      await handle.close();
    }
  }
}

/**
 * Exactly `size` bytes of a file the container may be changing while it is read: cut off past `size`,
 * padded with zeros if it shrank, so the tar entry always matches its header.
 */
async function* exactly(handle: FileHandle, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.alloc(64 * 1024);
  let left = size;
  while (left > 0) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, left), null);
    if (bytesRead === 0) {
      yield Buffer.alloc(left);
      return;
    }
    yield Buffer.from(buf.subarray(0, bytesRead));
    left -= bytesRead;
  }
}
