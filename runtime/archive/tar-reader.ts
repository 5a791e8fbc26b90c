import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream, { type Header } from 'tar-stream';
import { invalid } from '../errors.ts';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.ts';
import { ancestorsOf, normaliseEntryPath, quote } from './tar-path.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'whiteout' | 'opaque';

/** A tar entry that passed every check: its path (and a hardlink's target) stays inside the root. */
export interface SafeEntry {
  kind: EntryKind;
  /** Normalised relative path. For whiteouts, the path being deleted; for opaque markers, the directory. */
  path: string;
  /** Hardlink target (normalised), or symlink target (verbatim: it is only ever resolved inside a container). */
  linkTarget: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  header: Header;
  /** File content (streamx readable); drained automatically if the consumer does not read it. */
  body: AsyncIterable<Buffer>;
}

export interface ReadOptions {
  limits?: ArchiveLimits;
  /** What the archive is, for error messages ("layer", "image archive", …). */
  label?: string;
}

/**
 * Read a (possibly gzip-compressed) tar that comes from an untrusted source, yielding entries that are safe
 * to apply to a fresh directory:
 * - names are relative and never climb out (`..`, absolute paths rejected);
 * - no entry lies beneath a symlink or a non-directory planted earlier in the same archive, so nothing can be
 *   written through a link (a fresh directory contains no other links);
 * - hardlinks point only at regular files earlier in the same archive;
 * - device nodes are refused; entry count and expanded size are capped.
 */
export async function* readSafeTar(source: Readable, opts: ReadOptions = {}): AsyncGenerator<SafeEntry> {
  const limits = opts.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const label = opts.label ?? 'archive';
  const kinds = new Map<string, EntryKind>();
  const extract = tarStream.extract();
  const plain = await openMaybeGzip(source);
  const input = byteLimit(limits.maxBytes, label);
  // pipe() does not forward errors: a client that vanishes mid-upload must fail this read, not the process.
  plain.on('error', (err) => input.destroy(err));
  plain.pipe(input);
  input.on('error', (err) => extract.destroy(err));
  input.on('data', (chunk: Buffer) => {
    if (!extract.write(chunk)) input.pause();
  });
  extract.on('drain', () => input.resume());
  input.on('end', () => extract.end(undefined));
  let count = 0;
  try {
    for await (const raw of extract) {
      if (++count > limits.maxEntries) throw invalid(`${label} has more than ${limits.maxEntries} entries`);
      const entry = classify(raw.header, raw as AsyncIterable<Buffer>, label, kinds);
      if (entry) {
        yield entry;
      }
      raw.resume();
    }
  } catch (err) {
    input.destroy();
    throw wrapTarError(err, label);
  }
}

function classify(header: Header, body: AsyncIterable<Buffer>, label: string, kinds: Map<string, EntryKind>): SafeEntry | undefined {
  const fullPath = normaliseEntryPath(header.name, `${label} entry`);
  if (fullPath === '') return undefined; // the archive's own root ("./")
  const slash = fullPath.lastIndexOf('/');
  const dir = slash === -1 ? '' : fullPath.slice(0, slash);
  const base = fullPath.slice(slash + 1);
  let kind = kindOf(header, label, fullPath);
  let path = fullPath;
  if (base === OPAQUE_MARKER) {
    kind = 'opaque';
    path = dir;
  } else if (base.startsWith(WHITEOUT_PREFIX)) {
    const target = base.slice(WHITEOUT_PREFIX.length);
    if (target === '' || target === '.' || target === '..') throw invalid(`${label} has an invalid whiteout: ${quote(fullPath)}`);
    kind = 'whiteout';
    path = dir === '' ? target : `${dir}/${target}`;
  }
  for (const ancestor of ancestorsOf(fullPath)) {
    const seen = kinds.get(ancestor);
    if (seen === undefined) kinds.set(ancestor, 'dir');
    else if (seen === 'symlink') throw invalid(`${label} entry ${quote(fullPath)} lies beneath the symlink ${quote(ancestor)}`);
    else if (seen !== 'dir') throw invalid(`${label} entry ${quote(fullPath)} lies beneath the non-directory ${quote(ancestor)}`);
  }
  let linkTarget = header.linkname ?? '';
  if (kind === 'hardlink') {
    linkTarget = normaliseEntryPath(linkTarget, `${label} hardlink target`);
    const targetKind = kinds.get(linkTarget);
    if (targetKind !== 'file' && targetKind !== 'hardlink') {
      throw invalid(`${label} hardlink ${quote(fullPath)} points at ${quote(linkTarget)}, which is not a file earlier in the archive`);
    }
  }
  if (kind === 'whiteout' || kind === 'opaque') {
    // Deletions: the path is no longer anything in this layer's view (an opaque dir stays a dir).
    if (kind === 'whiteout') forgetSubtree(kinds, path);
  } else {
    if (kind !== 'dir') forgetSubtree(kinds, path);
    kinds.set(path, kind);
  }
  return {
    kind,
    path,
    linkTarget,
    mode: (header.mode ?? 0o644) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    mtime: header.mtime ?? new Date(0),
    size: kind === 'file' ? (header.size ?? 0) : 0,
    header,
    body,
  };
}

function kindOf(header: Header, label: string, name: string): EntryKind {
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    case 'fifo':
      return 'fifo';
    case 'character-device':
    case 'block-device':
      throw invalid(`${label} entry ${quote(name)} is a device node; device nodes are not allowed`);
    default:
      throw invalid(`${label} entry ${quote(name)} has an unsupported type (${String(header.type)})`);
  }
}

function forgetSubtree(kinds: Map<string, EntryKind>, path: string): void {
  if (kinds.get(path) !== 'dir') {
    kinds.delete(path);
    return;
  }
  const prefix = `${path}/`;
  for (const key of kinds.keys()) if (key === path || key.startsWith(prefix)) kinds.delete(key);
}

/** Detect gzip by its magic bytes and decompress; pass anything else through. */
export async function openMaybeGzip(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer);
  const replay = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value as Buffer;
    })(),
  );
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    replay.on('error', (err) => gunzip.destroy(err));
    return replay.pipe(gunzip);
  }
  return replay;
}

function byteLimit(maxBytes: number, label: string): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > maxBytes) done(invalid(`${label} expands to more than ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
}

function wrapTarError(err: unknown, label: string): Error {
  if (err instanceof Error && err.name === 'EngineError') return err;
  const message = err instanceof Error ? err.message : String(err);
  return invalid(`${label} is not a valid tar archive: ${message}`, err);
}
