import type { Hash } from 'node:crypto';
import { constants, createWriteStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SafeEntry } from '../../archive/tar-reader.ts';
import { invalid } from '../../errors.ts';
import { BULK_STREAM_BYTES } from '../../util/fsx.ts';

const SLAB_BYTES = 1024 * 1024;

/**
 * Memory for the content of context files, shared by the process's builds and kept between them. Holding a
 * file then costs one copy into memory that is already there; keeping the socket's chunks, or fresh buffers,
 * would cost more than writing the file (the GC chases them, the kernel faults their pages in).
 */
export class ContentPool {
  private readonly free: Buffer[] = [];
  private allocated = 0;

  constructor(private readonly maxBytes: number) {}

  /** `count` slabs, or undefined when the pool cannot spare that many. */
  take(count: number): Buffer[] | undefined {
    const fresh = count - this.free.length;
    if (fresh > 0 && this.allocated + fresh * SLAB_BYTES > this.maxBytes) return undefined;
    const slabs = this.free.splice(Math.max(0, this.free.length - count));
    for (; slabs.length < count; this.allocated += SLAB_BYTES) slabs.push(Buffer.allocUnsafeSlow(SLAB_BYTES));
    return slabs;
  }

  give(slabs: Buffer[]): void {
    this.free.push(...slabs);
  }
}

/** The content the builds of this process hold in memory at most; what does not fit is written at once. */
export const CONTEXT_MEMORY = new ContentPool(32 * 1024 * 1024);

/** A regular file of the context: its content in memory until a COPY/ADD reads the context, or already on disk. */
interface ContextFile {
  /** Where the content starts in the context's slabs while it is held; undefined once it is on disk. */
  heldAt: number | undefined;
  size: number;
  mode: number;
  mtime: Date;
}

/**
 * The regular files of an extracted context. Most builds hit the cache on every COPY, so their content is
 * only hashed, never written: each file is created empty in the tree (so paths, wildcards and symlinks resolve
 * on disk as usual) and its content stays in memory, up to the pool's bound, until the first COPY/ADD that has
 * to copy from the context calls materialise(). A file that does not fit is written at once. The map follows
 * the tree: a path replaced or removed is forgotten, so a held file is only ever written at a path that is
 * still its own, with no symlink on the way (readSafeTar lets no entry lie beneath one).
 */
export class ContextFiles {
  private readonly files = new Map<string, ContextFile>();
  /** Parent directories of the paths in `files`: which removals must look for files below them. */
  private readonly parents = new Set<string>();
  private slabs: Buffer[] = [];
  /** Bytes of `slabs` in use. */
  private used = 0;
  private materialised: Promise<void> | undefined;

  constructor(
    private readonly root: string,
    private readonly pool: ContentPool,
  ) {}

  /** Create a file entry at `rel` (a fresh path), feeding its content to `hash`; hold the content if it fits. */
  async receive(rel: string, entry: SafeEntry, hash: Hash): Promise<void> {
    const target = path.join(this.root, rel);
    const handle = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    // The header's size: what the body holds (SafeEntry.size is 0 for a `.wh.*` name, which is a plain file here).
    const file: ContextFile = { heldAt: undefined, size: entry.header.size ?? 0, mode: entry.mode, mtime: entry.mtime };
    try {
      if (this.reserve(file.size)) {
        file.heldAt = this.used;
        await this.hold(entry.body, file.size, hash);
      } else {
        await writeContent(handle, hashing(entry.body, hash), file);
      }
    } finally {
      await handle.close();
    }
    this.add(rel, file);
  }

  /** A hardlink entry: the same file (inode) under another path. */
  link(rel: string, target: string): void {
    const file = this.files.get(target);
    if (file) this.add(rel, file);
  }

  /** `rel` was replaced or removed in the tree: forget it and any file below it. */
  forget(rel: string): void {
    this.files.delete(rel);
    if (!this.parents.delete(rel)) return;
    const prefix = `${rel}/`;
    for (const key of this.files.keys()) if (key.startsWith(prefix)) this.files.delete(key);
    for (const key of this.parents) if (key.startsWith(prefix)) this.parents.delete(key);
  }

  /** The content of a regular file entry (at most `maxBytes`, else `tooLarge` is thrown), or undefined if `rel` is none. */
  async read(rel: string, maxBytes: number, tooLarge: () => Error): Promise<Buffer | undefined> {
    const file = this.files.get(rel);
    if (!file) return undefined;
    if (file.size > maxBytes) throw tooLarge();
    if (file.heldAt !== undefined) return Buffer.concat(this.content(file));
    return fs.readFile(path.join(this.root, rel), { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  }

  /** Write every held file into the tree (once): before anything reads file content from the context's root. */
  materialise(): Promise<void> {
    this.materialised ??= this.writeHeld();
    return this.materialised;
  }

  /** Give the memory back to the pool; the held content is gone (call when the context is removed). */
  release(): void {
    for (const file of this.files.values()) file.heldAt = undefined;
    this.pool.give(this.slabs);
    this.slabs = [];
    this.used = 0;
  }

  private async writeHeld(): Promise<void> {
    for (const [rel, file] of this.files) {
      if (file.heldAt === undefined) continue; // on disk already, or written through another of its hardlinks
      const handle = await fs.open(path.join(this.root, rel), constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        await writeContent(handle, Readable.from(this.content(file)), file);
      } finally {
        await handle.close();
      }
      file.heldAt = undefined;
    }
    this.release();
  }

  /** Make room for `size` more bytes in this context's slabs; false when the pool cannot spare it. */
  private reserve(size: number): boolean {
    const missing = this.used + size - this.slabs.length * SLAB_BYTES;
    if (missing <= 0) return true;
    const slabs = this.pool.take(Math.ceil(missing / SLAB_BYTES));
    if (!slabs) return false;
    this.slabs.push(...slabs);
    return true;
  }

  /** Hash the body and copy it into the space reserved for its `size` bytes. */
  private async hold(body: AsyncIterable<Buffer>, size: number, hash: Hash): Promise<void> {
    const end = this.used + size;
    for await (const chunk of body) {
      if (this.used + chunk.length > end) throw invalid('build context entry is longer than its header says');
      hash.update(chunk);
      for (let at = 0; at < chunk.length; ) {
        const n = chunk.copy(this.slabs[Math.floor(this.used / SLAB_BYTES)]!, this.used % SLAB_BYTES, at);
        at += n;
        this.used += n;
      }
    }
  }

  /** A held file's content: views of the slabs it spans. */
  private content(file: ContextFile): Buffer[] {
    const views: Buffer[] = [];
    for (let at = file.heldAt!, end = at + file.size; at < end; ) {
      const offset = at % SLAB_BYTES;
      const view = this.slabs[Math.floor(at / SLAB_BYTES)]!.subarray(offset, Math.min(SLAB_BYTES, offset + end - at));
      views.push(view);
      at += view.length;
    }
    return views;
  }

  private add(rel: string, file: ContextFile): void {
    this.files.set(rel, file);
    for (let dir = path.posix.dirname(rel); dir !== '.' && !this.parents.has(dir); dir = path.posix.dirname(dir)) this.parents.add(dir);
  }
}

async function* hashing(body: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    hash.update(chunk);
    yield chunk;
  }
}

/** Write the content, then mode and times (ownership is not applied: COPY decides it). */
async function writeContent(handle: FileHandle, content: AsyncIterable<Buffer>, file: ContextFile): Promise<void> {
  await pipeline(content, createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: BULK_STREAM_BYTES }));
  await handle.chmod(file.mode);
  await handle.utimes(file.mtime, file.mtime);
}
