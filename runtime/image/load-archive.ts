import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ArchiveLimits } from '../archive/limits.ts';
import { readSafeTar } from '../archive/tar-reader.ts';
import { quote } from '../archive/tar-path.ts';
import { invalid } from '../errors.ts';
import { Hasher, type Digest } from '../util/digest.ts';
import { entryBody } from '../archive/tar-writer.ts';

/** A regular file of the uploaded archive, kept as a scratch file named by its position, not its path. */
export interface ArchiveFile {
  /** Where the bytes are on disk (inside the scratch directory). */
  file: string;
  digest: Digest;
  size: number;
}

type Node = { kind: 'file'; data: ArchiveFile } | { kind: 'symlink'; target: string } | { kind: 'dir' };

/** Most bytes a metadata file (manifest.json, index.json, a config, an OCI manifest) may have. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const LABEL = 'image archive';
/** Symlinks followed while resolving one path, as the kernel's limit. */
const MAX_LINKS = 40;

/**
 * An uploaded image archive, unpacked into scratch files without ever writing a path the archive chose: the
 * archive's namespace (names, symlinks between its entries) lives in memory, so `../` or a symlink to `/etc`
 * inside it can only ever fail a lookup, never reach the host's filesystem.
 */
export class ReceivedArchive {
  private constructor(private readonly nodes: Map<string, Node>) {}

  /**
   * Read the upload (tar, possibly gzip) into `scratchDir`, checking it with the hostile-archive rules and the
   * store's caps on entries and expanded bytes.
   */
  static async receive(source: Readable, scratchDir: string, limits: ArchiveLimits): Promise<ReceivedArchive> {
    const nodes = new Map<string, Node>();
    let n = 0;
    for await (const entry of readSafeTar(source, { limits, label: LABEL })) {
      if (entry.kind === 'file') {
        const file = path.join(scratchDir, String(n++));
        nodes.set(entry.path, { kind: 'file', data: await writeScratch(entry.body, file) });
      } else if (entry.kind === 'hardlink') {
        nodes.set(entry.path, nodes.get(entry.linkTarget)!);
      } else if (entry.kind === 'symlink') {
        nodes.set(entry.path, { kind: 'symlink', target: entry.linkTarget });
      } else if (entry.kind === 'dir') {
        nodes.set(entry.path, { kind: 'dir' });
      }
    }
    if (nodes.size === 0) throw invalid('invalid image archive: it contains no files (is it a tar from docker save?)');
    return new ReceivedArchive(nodes);
  }

  has(name: string): boolean {
    try {
      this.file(name, 'file');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The regular file at `name`, a path that the archive's own metadata gave (manifest.json, index.json).
   * Symlinks are followed inside the archive only; any path that leaves it is an error.
   */
  file(name: string, what: string): ArchiveFile {
    let parts = splitInside(name, [], name, what);
    for (let hops = 0; ; hops++) {
      if (hops > MAX_LINKS) throw invalid(`invalid image archive: too many symlinks resolving ${what} ${quote(name)}`);
      const step = this.walk(parts, name, what);
      if (step.kind === 'file') return step.data;
      parts = step.parts;
    }
  }

  /** Read a small metadata file whole. */
  async read(name: string, what: string): Promise<Buffer> {
    const found = this.file(name, what);
    if (found.size > MAX_METADATA_BYTES) throw invalid(`invalid image archive: ${what} ${quote(name)} is larger than ${MAX_METADATA_BYTES} bytes`);
    return fs.readFile(found.file);
  }

  /** Walk components until a symlink (returns the rewritten path) or the final file. */
  private walk(parts: string[], name: string, what: string): { kind: 'file'; data: ArchiveFile } | { kind: 'link'; parts: string[] } {
    for (let i = 0; i < parts.length; i++) {
      const node = this.nodes.get(parts.slice(0, i + 1).join('/'));
      const last = i === parts.length - 1;
      if (!node && !last) continue; // a parent directory the archive left implicit
      if (!node) break;
      if (node.kind === 'symlink') {
        if (node.target.startsWith('/')) throw invalid(`invalid image archive: ${what} ${quote(name)} goes through a symlink to an absolute path`);
        return { kind: 'link', parts: splitInside(`${node.target}/${parts.slice(i + 1).join('/')}`, parts.slice(0, i), name, what) };
      }
      if (last && node.kind === 'file') return { kind: 'file', data: node.data };
      if (!last && node.kind !== 'dir') break;
    }
    throw invalid(`invalid image archive: ${what} ${quote(name)} is not in the archive`);
  }
}

/** Resolve `rel` against `base` (components), refusing to climb above the archive's root. */
function splitInside(rel: string, base: string[], name: string, what: string): string[] {
  if (rel.startsWith('/')) throw invalid(`invalid image archive: ${what} ${quote(name)} is an absolute path`);
  const out = [...base];
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw invalid(`invalid image archive: ${what} ${quote(name)} points outside the archive`);
      out.pop();
    } else out.push(part);
  }
  return out;
}

async function writeScratch(body: AsyncIterable<Buffer>, file: string): Promise<ArchiveFile> {
  const hasher = new Hasher();
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    for await (const chunk of entryBody(body, LABEL)) {
      hasher.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return { file, digest: hasher.digest(), size: hasher.size };
}
