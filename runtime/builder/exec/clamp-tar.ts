import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { openMaybeGzip } from '../../archive/tar-reader.ts';

/**
 * Entry names of an ADD archive as Docker 20.10 extracts them: inside a chroot at the destination, so `..`
 * cannot climb above it and a leading `/` means the destination (`../../x` → `x`, `a/../../b` → `b`, `/etc/y`
 * → `etc/y`); hard link targets likewise. Symlink targets stay verbatim (they are only ever resolved inside a
 * container). The result still goes through the safe tar reader, which refuses everything else it refuses.
 */
export function clampArchiveNames(source: Readable): Readable {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  extract.on('entry', (header, body, next) => {
    const clamped = { ...header, name: clampName(header.name) };
    if (header.type === 'link' && header.linkname) clamped.linkname = clampName(header.linkname);
    pipeline(body, pack.entry(clamped)).then(() => next(), next);
  });
  extract.on('finish', () => pack.finalize());
  openMaybeGzip(source)
    .then((input) => pipeline(input, extract))
    .catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as Readable;
}

/** The name rooted at the destination: Go's filepath.Join("/", name) in a chroot, made relative again. */
export function clampName(name: string): string {
  const rooted = path.posix.join('/', name).slice(1);
  if (rooted === '') return './';
  return name.endsWith('/') && !rooted.endsWith('/') ? `${rooted}/` : rooted;
}
