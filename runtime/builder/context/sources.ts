import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { isErrno } from '../../errors.ts';
import { containsWildcards, goMatch } from './gomatch.ts';
import { escapesRoot, resolveInRoot } from './scoped-path.ts';
import { tarSumHash } from './tarsum.ts';

/** A filesystem COPY/ADD reads from: the build context (hashes from its tar) or a stage/image rootfs (hashed lazily). */
export interface SourceTree {
  root: string;
  /** Docker's per-entry hash of a resolved relative path. */
  hash(rel: string): Promise<string>;
}

/** One resolved source of a COPY/ADD. */
export interface CopySource {
  /** Real path relative to the tree root (symlinks on the way already followed, inside the root). */
  rel: string;
  /** The path as the instruction named it (after wildcard expansion): its basename names a copied file. */
  named: string;
  isDir: boolean;
  /** `file:<hex>` or `dir:<hex>`. */
  hash: string;
  /** Per-file hashes below a directory source (relative to it), or the file itself: what "sources-changed" compares. */
  files: Record<string, string>;
}

/**
 * Resolve the sources of one COPY/ADD as the classic builder does (moby 20.10 builder/dockerfile/copy.go):
 * leading `/` and `./` dropped, a path that climbs out of the root is refused, wildcards match entries of the
 * whole tree with Go's filepath.Match, symlinks are followed only inside the root. Throws Docker's texts.
 */
export async function resolveSources(tree: SourceTree, names: readonly string[], fromContext: boolean): Promise<CopySource[]> {
  const out: CopySource[] = [];
  for (const name of names) out.push(...(await resolveOne(tree, name, true, fromContext)));
  if (out.length === 0) throw new Error('no source files were specified');
  return out;
}

/** Docker's combined source hash: one source keeps its own, several become `multi:<sha256 of them joined>`. */
export function combinedHash(sources: readonly CopySource[]): string {
  if (sources.length === 1) return sources[0]!.hash;
  return `multi:${sha256Hex(sources.map((s) => s.hash).join(','))}`;
}

async function resolveOne(tree: SourceTree, orig: string, allowWildcards: boolean, fromContext: boolean): Promise<CopySource[]> {
  if (escapesRoot(orig.replace(/^\/+/, ''))) throw new Error(`forbidden path outside the build context: ${orig} ()`);
  const trimmed = orig.replace(/^\//, '').replace(/^\.\//, '');
  if (allowWildcards && containsWildcards(trimmed)) {
    const matches: CopySource[] = [];
    for (const rel of await walk(tree.root, '')) {
      if (goMatch(trimmed, rel)) matches.push(...(await resolveOne(tree, rel, false, fromContext)));
    }
    return matches;
  }
  const rel = await resolveInRoot(tree.root, trimmed);
  let st: Stats;
  try {
    st = await fs.lstat(path.join(tree.root, rel));
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
    const notFound = `stat ${trimmed}: file does not exist`;
    throw new Error(fromContext ? `file not found in build context or excluded by .dockerignore: ${notFound}` : notFound);
  }
  if (!st.isDirectory()) {
    const hash = await tree.hash(rel);
    return [{ rel, named: trimmed, isDir: false, hash: `file:${hash}`, files: { [path.posix.basename(rel)]: hash } }];
  }
  const entries = rel === '' ? [] : [rel];
  entries.push(...(await walk(tree.root, rel)));
  const files: Record<string, string> = {};
  const hashes: string[] = [];
  for (const entry of entries) {
    const h = await tree.hash(entry);
    hashes.push(h);
    if (entry !== rel) files[rel === '' ? entry : entry.slice(rel.length + 1)] = h;
  }
  hashes.sort();
  return [{ rel, named: trimmed, isDir: true, hash: `dir:${sha256Hex(hashes.join(','))}`, files }];
}

/** Every path below `rel`, lexical order, directories before their contents, symlinks not followed. */
export async function walk(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const names = (await fs.readdir(path.join(root, rel))).sort();
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    out.push(child);
    if ((await fs.lstat(path.join(root, child))).isDirectory()) out.push(...(await walk(root, child)));
  }
  return out;
}

/**
 * Docker's lazy hash of a file in a rootfs (remotecontext/filehash.go): a TarSum v1 header built from the
 * file's stat (mode with file-type bits, directory names with a trailing slash), then the content.
 */
export async function lazyHash(root: string, rel: string): Promise<string> {
  const full = path.join(root, rel);
  let st: Stats;
  try {
    st = await fs.lstat(full);
  } catch {
    return rel; // Docker's backwards-compatible answer for a broken path
  }
  const hash = tarSumHash({
    name: st.isDirectory() ? `${rel}/` : rel,
    mode: goFileMode(st),
    uid: st.uid,
    gid: st.gid,
    size: st.isFile() ? st.size : 0,
    typeflag: st.isDirectory() ? '5' : st.isSymbolicLink() ? '2' : st.isFIFO() ? '6' : '0',
    linkname: st.isSymbolicLink() ? await fs.readlink(full) : '',
    devmajor: 0,
    devminor: 0,
    xattrs: {},
  });
  if (st.isFile() && st.size > 0) for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Mode as Go's archive/tar FileInfoHeader writes it: permission and set-id bits plus the c_IS* type bits. */
function goFileMode(st: Stats): number {
  const perm = st.mode & 0o7777;
  if (st.isDirectory()) return perm | 0o40000;
  if (st.isSymbolicLink()) return perm | 0o120000;
  if (st.isFIFO()) return perm | 0o10000;
  return perm | 0o100000;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
