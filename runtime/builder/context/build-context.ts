import { constants, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { ArchiveLimits } from '../../archive/limits.ts';
import { readSafeTar, type SafeEntry } from '../../archive/tar-reader.ts';
import { normaliseEntryPath } from '../../archive/tar-path.ts';
import { isErrno } from '../../errors.ts';
import { BULK_STREAM_BYTES } from '../../util/fsx.ts';
import { BuildError } from '../build-error.ts';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.ts';
import { goClean } from './gomatch.ts';
import { headerOf, tarSumHash } from './tarsum.ts';

export const DEFAULT_DOCKERFILE = 'Dockerfile';
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

export interface ContextOptions {
  /** Where to extract; created fresh, removed by cleanup(). */
  dir: string;
  limits: ArchiveLimits;
  /** The `dockerfile` query parameter (path inside the context). */
  dockerfile?: string;
}

/**
 * The build context as the daemon sees it: the (untrusted) context tar extracted into a private scratch
 * directory with the checks of readSafeTar and its size caps, .dockerignore applied, the Dockerfile read,
 * and a TarSum per entry (Docker's COPY/ADD source identity: content, names, modes; not mtime).
 */
export class BuildContext {
  private constructor(
    readonly root: string,
    readonly dockerfileName: string,
    readonly dockerfileText: string,
    private readonly sums: Map<string, string>,
  ) {}

  static async fromTar(source: Readable, opts: ContextOptions): Promise<BuildContext> {
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const root = path.join(opts.dir, 'context');
    await fs.mkdir(root, { mode: 0o755 });
    try {
      const sums = await extract(source, root, opts.limits);
      const { name, text } = await readDockerfile(root, opts.dockerfile ?? DEFAULT_DOCKERFILE);
      await removeIgnoredBuildFiles(root, name);
      return new BuildContext(root, name, text, sums);
    } catch (err) {
      await fs.rm(root, { recursive: true, force: true });
      throw err;
    }
  }

  /** Docker's hash of one context path (cleaned, relative): the entry's TarSum, or the path itself if the tar had no entry for it. */
  hashOf(rel: string): string {
    const key = goClean(rel);
    return this.sums.get(key) ?? rel;
  }

  async cleanup(): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

async function extract(source: Readable, root: string, limits: ArchiveLimits): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  const entries: SafeEntry[] = [];
  for await (const entry of readSafeTar(source, { limits, label: 'build context' })) {
    const rel = normaliseEntryPath(entry.header.name, 'build context entry');
    if (rel === '') continue;
    const hash = tarSumHash(headerOf(entry.header));
    sums.set(rel, await writeEntry(root, rel, entry, hash));
    if (entry.kind === 'dir') entries.push(entry);
  }
  // Directory modes and times last: writing children would change the times again.
  for (const dir of entries.reverse()) {
    const target = path.join(root, normaliseEntryPath(dir.header.name));
    await fs.chmod(target, dir.mode);
    await fs.utimes(target, dir.mtime, dir.mtime);
  }
  return sums;
}

/**
 * Write one entry under a fresh root. readSafeTar guarantees the path stays inside and never lies beneath a
 * symlink from the archive; files are still opened O_NOFOLLOW|O_EXCL. Ownership is not applied: COPY decides it.
 */
async function writeEntry(root: string, rel: string, entry: SafeEntry, hash: ReturnType<typeof tarSumHash>): Promise<string> {
  const target = path.join(root, rel);
  await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  if (entry.kind === 'dir') {
    await fs.mkdir(target, { recursive: true, mode: 0o755 });
    return hash.digest('hex');
  }
  await fs.rm(target, { recursive: true, force: true });
  switch (entry.kind) {
    case 'symlink':
      await fs.symlink(entry.linkTarget, target);
      break;
    case 'hardlink':
      await fs.link(path.join(root, entry.linkTarget), target);
      break;
    case 'fifo':
      break; // the CLI never sends FIFOs; nothing to copy from one
    default:
      await writeFile(target, entry, hash);
  }
  return hash.digest('hex');
}

async function writeFile(target: string, entry: SafeEntry, hash: ReturnType<typeof tarSumHash>): Promise<void> {
  const handle = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(entry.body, hashing, createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: BULK_STREAM_BYTES }));
  await handle.chmod(entry.mode);
  await handle.utimes(entry.mtime, entry.mtime);
  await handle.close();
}

async function readDockerfile(root: string, name: string): Promise<{ name: string; text: string }> {
  const clean = goClean(name);
  for (const candidate of clean === DEFAULT_DOCKERFILE ? [clean, clean.toLowerCase()] : [clean]) {
    const text = await readRegularFile(root, candidate);
    if (text !== undefined) return { name: candidate, text };
  }
  throw new BuildError(`Cannot locate specified Dockerfile: ${name}`);
}

/** Read a file of the context without following symlinks out of it (the Dockerfile must be a plain file here). */
async function readRegularFile(root: string, rel: string): Promise<string | undefined> {
  if (clean(rel) === undefined) return undefined;
  let handle;
  try {
    handle = await fs.open(path.join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return undefined;
    if (st.size > MAX_DOCKERFILE_BYTES) throw new BuildError(`the Dockerfile (${rel}) is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function clean(rel: string): string | undefined {
  const c = goClean(rel);
  return c === '..' || c.startsWith('../') || c.startsWith('/') ? undefined : c;
}

/**
 * The CLI always sends the Dockerfile and .dockerignore; the daemon then deletes them from the context when
 * .dockerignore names them, so `COPY . …` does not see them. Everything else the patterns exclude was
 * already left out by the client; it is excluded again here for clients that send the whole directory.
 */
async function removeIgnoredBuildFiles(root: string, dockerfile: string): Promise<void> {
  const text = await readRegularFile(root, '.dockerignore');
  if (text === undefined) return;
  let matcher: IgnoreMatcher;
  try {
    matcher = new IgnoreMatcher(parseDockerignore(text));
  } catch (err) {
    throw new BuildError(`Error reading .dockerignore: ${(err as Error).message}`);
  }
  await removeExcluded(root, '', matcher);
  for (const file of ['.dockerignore', dockerfile]) {
    if (matcher.matches(file)) await fs.rm(path.join(root, file), { recursive: true, force: true });
  }
}

async function removeExcluded(root: string, rel: string, matcher: IgnoreMatcher): Promise<void> {
  for (const name of await fs.readdir(path.join(root, rel))) {
    const child = rel === '' ? name : `${rel}/${name}`;
    if (child === '.dockerignore') continue; // decided below, together with the Dockerfile
    const full = path.join(root, child);
    const st = await fs.lstat(full);
    if (matcher.matches(child) && !(st.isDirectory() && matcher.mayIncludeBelow(child))) {
      await fs.rm(full, { recursive: true, force: true });
    } else if (st.isDirectory()) {
      await removeExcluded(root, child, matcher);
    }
  }
}
