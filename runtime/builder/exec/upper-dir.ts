import { constants, createReadStream, createWriteStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isErrno } from '../../errors.ts';
import { BULK_STREAM_BYTES } from '../../util/fsx.ts';

/** Owner to give new files: a fixed identity, or null to keep the source's. */
export type Identity = { uid: number; gid: number } | null;

/**
 * Writes into a fresh layer directory (the "upper dir" of a COPY/ADD/WORKDIR step) without ever following a
 * symlink: every directory on the way is created by this class as a real directory (replacing whatever
 * non-directory a previous source put there), and files are created O_EXCL|O_NOFOLLOW. Directories that exist
 * in the parent image are created with the parent's metadata, as overlayfs copy-up would.
 */
export class UpperDir {
  constructor(
    readonly root: string,
    private readonly lower: string,
  ) {}

  /** Make sure `rel` is a directory in the upper dir; returns true when it did not exist in the image before. */
  async ensureDir(rel: string, owner: Identity, mode = 0o755): Promise<boolean> {
    if (rel === '') return false;
    await this.ensureDir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), owner);
    const target = path.join(this.root, rel);
    const existing = await lstatOrNull(target);
    if (existing?.isDirectory()) return false;
    if (existing) await fs.rm(target, { recursive: true, force: true });
    const below = await this.lowerStat(rel);
    await fs.mkdir(target, { mode: 0o700 });
    if (below?.isDirectory()) {
      await fs.lchown(target, below.uid, below.gid);
      await fs.chmod(target, below.mode & 0o7777);
      await fs.utimes(target, below.atime, below.mtime);
      return false;
    }
    await fs.lchown(target, owner?.uid ?? 0, owner?.gid ?? 0);
    await fs.chmod(target, mode);
    return true;
  }

  /** Whether `rel` is a directory in the merged view (upper over the image). */
  async isDir(rel: string): Promise<boolean> {
    const up = await lstatOrNull(path.join(this.root, rel));
    if (up) return up.isDirectory();
    return (await this.lowerStat(rel))?.isDirectory() ?? false;
  }

  /**
   * lstat a path of the parent image, but only through real directories: a symlink on the way (which could
   * be absolute and so point at the host) means the path is not there as far as the upper dir is concerned.
   */
  private async lowerStat(rel: string): Promise<Stats | null> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const st = await lstatOrNull(path.join(this.lower, ...parts.slice(0, i)));
      if (!st?.isDirectory()) return null;
    }
    return lstatOrNull(path.join(this.lower, rel));
  }

  /** Copy one non-directory entry (regular file or symlink) from a trusted absolute source path. */
  async copyEntry(src: string, st: Stats, rel: string, owner: Identity): Promise<void> {
    await this.ensureDir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), owner);
    const target = path.join(this.root, rel);
    await fs.rm(target, { recursive: true, force: true });
    const uid = owner?.uid ?? st.uid;
    const gid = owner?.gid ?? st.gid;
    if (st.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(src), target);
      await fs.lchown(target, uid, gid);
      await fs.lutimes(target, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) return; // FIFOs, sockets and devices are not copied
    const input = await fs.open(src, constants.O_RDONLY | constants.O_NOFOLLOW);
    const out = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const bulk = { autoClose: false, highWaterMark: BULK_STREAM_BYTES };
      await pipeline(createReadStream('', { fd: input.fd, ...bulk }), createWriteStream('', { fd: out.fd, ...bulk }));
    } finally {
      await input.close();
    }
    // chown clears set-id bits, so the mode goes on after it.
    await out.chown(uid, gid);
    await out.chmod(st.mode & 0o7777);
    await out.utimes(st.atime, st.mtime);
    await out.close();
  }

  /** Set a copied directory's metadata (after its contents, so the times stick). */
  async finishDir(rel: string, st: Stats, owner: Identity): Promise<void> {
    const target = path.join(this.root, rel);
    await fs.lchown(target, owner?.uid ?? st.uid, owner?.gid ?? st.gid);
    await fs.chmod(target, st.mode & 0o7777);
    await fs.utimes(target, st.atime, st.mtime);
  }
}

export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return null;
    throw err;
  }
}
