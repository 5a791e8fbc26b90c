import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomUUID } from 'node:crypto';
import { invalid } from '../../errors.ts';
import { Hasher, type Digest } from '../../util/digest.ts';
import type { RegistrySession } from './session.ts';

/**
 * Download a blob into a scratch file, hashing on the way: a blob whose bytes do not hash to its digest, or
 * that grows past `maxBytes`, is deleted and reported. Returns the file; the caller owns it.
 */
export async function downloadBlob(
  session: RegistrySession,
  repo: string,
  digest: Digest,
  opts: { tmpDir: string; maxBytes: number; onBytes?: (n: number) => void },
): Promise<string> {
  const res = await session.request('GET', `/v2/${repo}/blobs/${digest}`, { scope: [`repository:${repo}:pull`] });
  if (!res.body) throw invalid(`empty response for blob ${digest}`);
  const file = path.join(opts.tmpDir, `pull-${randomUUID()}`);
  const hasher = new Hasher();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hasher.update(chunk);
      opts.onBytes?.(hasher.size);
      if (hasher.size > opts.maxBytes) done(invalid(`blob ${digest} is larger than the limit of ${opts.maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    if (hasher.digest() !== digest) throw invalid(`filesystem layer verification failed for digest ${digest}`);
    return file;
  } catch (err) {
    await fs.rm(file, { force: true });
    throw err;
  }
}

/** Download a small blob (an image config) into memory, verified. */
export async function fetchSmallBlob(session: RegistrySession, repo: string, digest: Digest, maxBytes: number): Promise<Buffer> {
  const res = await session.request('GET', `/v2/${repo}/blobs/${digest}`, { scope: [`repository:${repo}:pull`] });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > maxBytes) throw invalid(`blob ${digest} is larger than ${maxBytes} bytes`);
  const hasher = new Hasher();
  hasher.update(bytes);
  if (hasher.digest() !== digest) throw invalid(`image config verification failed for digest ${digest}`);
  return bytes;
}
