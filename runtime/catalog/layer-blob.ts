import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { packDirectory } from '../archive/pack-dir.ts';
import { Hasher, hexOf, type Digest } from '../util/digest.ts';
import { syncPath } from '../util/fsx.ts';

export interface LayerBlob {
  /** sha256 of the gzip bytes: the blob's name and the manifest's layer digest. */
  digest: Digest;
  /** Bytes of the gzip blob. */
  size: number;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: Digest;
  /** Bytes of regular-file content in the layer (each hard-linked file counted once), as Docker reports sizes. */
  contentSize: number;
}

/**
 * Tar `rootfs` as a layer, gzip it into `blobsDir` under its digest, and return the digests a manifest and a
 * config need.
 */
export async function writeLayerBlob(rootfs: string, blobsDir: string): Promise<LayerBlob> {
  const blob = await writeGzipBlob(packDirectory(rootfs), blobsDir);
  return { ...blob, contentSize: await contentSize(rootfs) };
}

/**
 * Gzip a layer tar into `blobsDir` under its digest. One pass: the tar is hashed before compression (diffID)
 * and the gzip after (blob digest). Node's gzip writes no timestamp, so equal tars give equal blobs.
 */
export async function writeGzipBlob(tar: Readable, blobsDir: string): Promise<Omit<LayerBlob, 'contentSize'>> {
  const diff = new Hasher();
  const blob = new Hasher();
  const tmp = path.join(blobsDir, `.tmp-layer-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(tar, diff.tap(), createGzip(), blob.tap(), createWriteStream(tmp, { mode: 0o644 }));
    await syncPath(tmp);
    const digest = blob.digest();
    await fs.rename(tmp, path.join(blobsDir, hexOf(digest)));
    return { digest, size: blob.size, diffId: diff.digest() };
  } finally {
    await fs.rm(tmp, { force: true });
  }
}


/**
 * Docker's layer size (moby's directory.Size): the sizes of everything but directories, symlinks included
 * (the length of their target), each inode once (hard links share their content).
 */
export async function contentSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        await walk(full);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        const st = await fs.lstat(full);
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
