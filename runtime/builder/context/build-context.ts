import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArchiveLimits } from '../../archive/limits.ts';
import { readSafeTar, type SafeEntry } from '../../archive/tar-reader.ts';
import { normaliseEntryPath } from '../../archive/tar-path.ts';
import { BuildError } from '../build-error.ts';
import { CONTEXT_MEMORY, ContextFiles, type ContentPool } from './context-files.ts';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.ts';
import { goClean } from './gomatch.ts';
import { resolveInRoot } from './scoped-path.ts';
import { headerOf, tarSumHash } from './tarsum.ts';

export const DEFAULT_DOCKERFILE = 'Dockerfile';
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

export interface ContextOptions {
  /** Where to extract; created fresh, removed by cleanup(). */
  dir: string;
  limits: ArchiveLimits;
  /** The `dockerfile` query parameter (path inside the context). */
  dockerfile?: string;
  /** Memory that holds file content until a COPY/ADD needs it (default: the process's CONTEXT_MEMORY). */
  memory?: ContentPool;
}

/**
 * The build context as the daemon sees it: the (untrusted) context tar extracted into a private scratch
 * directory with the checks of readSafeTar and its size caps, .dockerignore applied, the Dockerfile read,
 * and a TarSum per entry (Docker's COPY/ADD source identity: content, names, modes; not mtime). File content
 * is written lazily (ContextFiles): call materialise() before reading files under `root`.
 */
export class BuildContext {
  private constructor(
    readonly root: string,
    readonly dockerfileName: string,
    readonly dockerfileText: string,
    private readonly sums: Map<string, string>,
    private readonly files: ContextFiles,
  ) {}

  static async fromTar(source: Readable, opts: ContextOptions): Promise<BuildContext> {
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const root = path.join(opts.dir, 'context');
    await fs.mkdir(root, { mode: 0o755 });
    const files = new ContextFiles(root, opts.memory ?? CONTEXT_MEMORY);
    try {
      const sums = await extract(source, root, opts.limits, files);
      const { name, text } = await readDockerfile(root, files, opts.dockerfile ?? DEFAULT_DOCKERFILE);
      await removeIgnoredBuildFiles(root, name, files);
      return new BuildContext(root, name, text, sums, files);
    } catch (err) {
      files.release();
      await fs.rm(root, { recursive: true, force: true });
      throw err;
    }
  }

  /** Docker's hash of one context path (cleaned, relative): the entry's TarSum, or the path itself if the tar had no entry for it. */
  hashOf(rel: string): string {
    const key = goClean(rel);
    return this.sums.get(key) ?? rel;
  }

  /** Write the content of every file into `root`; a COPY/ADD that misses the cache calls this before copying. */
  materialise(): Promise<void> {
    return this.files.materialise();
  }

  async cleanup(): Promise<void> {
    this.files.release();
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

async function extract(source: Readable, root: string, limits: ArchiveLimits, files: ContextFiles): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  const entries: SafeEntry[] = [];
  for await (const entry of readSafeTar(source, { limits, label: 'build context' })) {
    const rel = normaliseEntryPath(entry.header.name, 'build context entry');
    if (rel === '') continue;
    const hash = tarSumHash(headerOf(entry.header));
    await writeEntry(root, rel, entry, hash, files);
    sums.set(rel, hash.digest('hex'));
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
async function writeEntry(root: string, rel: string, entry: SafeEntry, hash: ReturnType<typeof tarSumHash>, files: ContextFiles): Promise<void> {
  const target = path.join(root, rel);
  await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  if (entry.kind === 'dir') {
    await fs.mkdir(target, { recursive: true, mode: 0o755 });
    return;
  }
  await fs.rm(target, { recursive: true, force: true });
  files.forget(rel);
  switch (entry.kind) {
    case 'symlink':
      await fs.symlink(entry.linkTarget, target);
      break;
    case 'hardlink':
      await fs.link(path.join(root, entry.linkTarget), target);
      files.link(rel, entry.linkTarget);
      break;
    case 'fifo':
      break; // the CLI never sends FIFOs; nothing to copy from one
    default:
      await files.receive(rel, entry, hash);
  }
}

async function readDockerfile(root: string, files: ContextFiles, name: string): Promise<{ name: string; text: string }> {
  const clean = goClean(name);
  for (const candidate of clean === DEFAULT_DOCKERFILE ? [clean, clean.toLowerCase()] : [clean]) {
    const text = await readRegularFile(root, files, candidate);
    if (text !== undefined) return { name: candidate, text };
  }
  throw new BuildError(`Cannot locate specified Dockerfile: ${name}`);
}

/**
 * A regular file of the context by name: directory symlinks on the way are followed inside the context only
 * (moby's scoped resolution); the file itself must be a plain file here, not a symlink.
 */
async function readRegularFile(root: string, files: ContextFiles, name: string): Promise<string | undefined> {
  const rel = await contextPath(root, name);
  if (rel === undefined) return undefined;
  const content = await files.read(rel, MAX_DOCKERFILE_BYTES, () => new BuildError(`the Dockerfile (${name}) is larger than ${MAX_DOCKERFILE_BYTES} bytes`));
  return content?.toString('utf8');
}

/** Where a name of the context leads, its directories resolved inside the context; undefined if it climbs out. */
async function contextPath(root: string, name: string): Promise<string | undefined> {
  const rel = goClean(name);
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) return undefined;
  const dir = path.posix.dirname(rel);
  return dir === '.' ? rel : path.posix.join(await resolveInRoot(root, dir), path.posix.basename(rel));
}

/**
 * The CLI always sends the Dockerfile and .dockerignore; the daemon then deletes them from the context when
 * .dockerignore names them, so `COPY . …` does not see them. Everything else the patterns exclude was
 * already left out by the client; it is excluded again here for clients that send the whole directory.
 */
async function removeIgnoredBuildFiles(root: string, dockerfile: string, files: ContextFiles): Promise<void> {
  const text = await readRegularFile(root, files, '.dockerignore');
  if (text === undefined) return;
  let matcher: IgnoreMatcher;
  try {
    matcher = new IgnoreMatcher(parseDockerignore(text));
  } catch (err) {
    throw new BuildError(`Error reading .dockerignore: ${(err as Error).message}`);
  }
  await removeExcluded(root, '', matcher, files);
  for (const file of ['.dockerignore', dockerfile]) {
    const rel = await contextPath(root, file);
    if (rel !== undefined && matcher.matches(file)) await remove(root, rel, files);
  }
}

async function removeExcluded(root: string, rel: string, matcher: IgnoreMatcher, files: ContextFiles): Promise<void> {
  for (const name of await fs.readdir(path.join(root, rel))) {
    const child = rel === '' ? name : `${rel}/${name}`;
    if (child === '.dockerignore') continue; // decided below, together with the Dockerfile
    const full = path.join(root, child);
    const st = await fs.lstat(full);
    if (matcher.matches(child) && !(st.isDirectory() && matcher.mayIncludeBelow(child))) {
      await remove(root, child, files);
    } else if (st.isDirectory()) {
      await removeExcluded(root, child, matcher, files);
    }
  }
}

async function remove(root: string, rel: string, files: ContextFiles): Promise<void> {
  await fs.rm(path.join(root, rel), { recursive: true, force: true });
  files.forget(rel);
}
