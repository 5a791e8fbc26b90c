import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { EngineError, invalid, isErrno, notFound } from '../errors.ts';
import { Hasher, hexOf, isDigest, type Digest } from '../util/digest.ts';
import { BULK_STREAM_BYTES, removeStaleTemps, syncPath, tempPathFor } from '../util/fsx.ts';

export interface PutResult {
  digest: Digest;
  size: number;
}

/**
 * Content-addressed blobs: `<root>/sha256/<hex>`. A blob's name is the sha256 of its bytes, so writing the
 * same content twice is harmless and a blob, once renamed into place, never changes.
 */
export class BlobStore {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'sha256');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await removeStaleTemps(this.dir);
  }

  path(digest: Digest): string {
    return path.join(this.dir, hexOf(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await fs.access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async size(digest: Digest): Promise<number> {
    return (await this.stat(digest)).size;
  }

  async read(digest: Digest): Promise<Buffer> {
    try {
      return await fs.readFile(this.path(digest));
    } catch (err) {
      throw missing(digest, err);
    }
  }

  async open(digest: Digest): Promise<Readable> {
    await this.stat(digest);
    return createReadStream(this.path(digest));
  }

  /** Store bytes already in memory (configs, manifests). */
  put(data: string | Uint8Array): Promise<PutResult> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return this.putStream(Readable.from([bytes]));
  }

  /**
   * Stream into the store, hashing on the way. With `expected`, a mismatch is an error and nothing is kept.
   * `maxBytes` cuts off oversized input before it fills the disk.
   */
  async putStream(source: Readable, opts: { expected?: Digest; maxBytes?: number } = {}): Promise<PutResult> {
    const hasher = new Hasher();
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const tmp = tempPathFor(path.join(this.dir, 'blob'));
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hasher.update(chunk);
        if (hasher.size > limit) done(invalid(`content exceeds the limit of ${limit} bytes`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: BULK_STREAM_BYTES }));
      const digest = hasher.digest();
      if (opts.expected && opts.expected !== digest) {
        throw new EngineError('INVALID', `digest mismatch: expected ${opts.expected}, got ${digest}`);
      }
      await syncPath(tmp);
      await fs.rename(tmp, this.path(digest));
      await syncPath(this.dir);
      return { digest, size: hasher.size };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /**
   * Adopt a file whose digest the caller has verified (e.g. from the catalog): hard link when on the same
   * filesystem, copy otherwise. The source is never modified.
   */
  async adopt(file: string, digest: Digest): Promise<void> {
    if (await this.has(digest)) return;
    const tmp = tempPathFor(this.path(digest));
    try {
      await fs.link(file, tmp);
    } catch (err) {
      if (!isErrno(err, 'EXDEV') && !isErrno(err, 'EPERM')) throw err;
      await fs.copyFile(file, tmp);
    }
    await fs.rename(tmp, this.path(digest));
  }

  async delete(digest: Digest): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fs.readdir(this.dir);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  private async stat(digest: Digest) {
    try {
      return await fs.stat(this.path(digest));
    } catch (err) {
      throw missing(digest, err);
    }
  }
}

function missing(digest: Digest, err: unknown): Error {
  return isErrno(err, 'ENOENT') ? notFound(`blob unknown: ${digest}`, err) : (err as Error);
}
