import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { WHITEOUT_PREFIX } from '../archive/tar-reader.ts';
import { catalogError } from './recipe.ts';

/** How many entries of the upper tree a diff carries, and how many whiteouts it wrote. */
export interface RootfsDiff {
  added: number;
  changed: number;
  deleted: number;
}

/**
 * Write into `out` (which must not exist) the layer that turns root filesystem `lower` into `upper`: every
 * entry of `upper` that is new, of another type, or differs in content, target, mode or owner, with the
 * directories leading to it; and an OCI whiteout (`.wh.<name>`, an empty file) for every entry `upper` lacks.
 * Modification times are not compared: two bootstraps of the same packages differ only in the mtimes of
 * files made at install time, and such a file with equal bytes is no change. Regular files are hard-linked
 * from `upper` (files linked together in `upper` stay linked in `out`), so both must be on one filesystem.
 * Both trees are this machine's own bootstraps, never a learner's files.
 */
export async function writeRootfsDiff(lower: string, upper: string, out: string): Promise<RootfsDiff> {
  const diff = new DiffWriter(lower, upper, out);
  await fs.mkdir(out);
  await diff.compareDir('');
  await diff.finishDirs();
  return diff.counts;
}

class DiffWriter {
  readonly counts: RootfsDiff = { added: 0, changed: 0, deleted: 0 };
  /** Directories made in `out`, whose mode, owner and mtime are copied from `upper` once they are filled. */
  private readonly made = new Set<string>();

  constructor(
    private readonly lower: string,
    private readonly upper: string,
    private readonly out: string,
  ) {}

  /** Compare two directories that exist in both trees, entry by entry. */
  async compareDir(rel: string): Promise<void> {
    const upperNames = new Set(await fs.readdir(path.join(this.upper, rel)));
    for (const name of [...upperNames].sort()) {
      if (name.startsWith(WHITEOUT_PREFIX)) throw catalogError(`cannot put /${join(rel, name)} in a layer: the name is a whiteout`);
      const child = join(rel, name);
      const up = await fs.lstat(path.join(this.upper, child));
      const low = await fs.lstat(path.join(this.lower, child)).catch(() => undefined);
      if (low === undefined) {
        this.counts.added++;
        await this.copy(child, up);
      } else if (up.isDirectory() && low.isDirectory()) {
        if (!sameMetadata(up, low)) {
          this.counts.changed++;
          await this.ensureDir(child);
        }
        await this.compareDir(child);
      } else if (!(await this.sameEntry(child, up, low))) {
        this.counts.changed++;
        await this.copy(child, up);
      }
    }
    for (const name of (await fs.readdir(path.join(this.lower, rel))).sort()) {
      if (upperNames.has(name)) continue;
      this.counts.deleted++;
      await this.ensureDir(rel);
      await fs.writeFile(path.join(this.out, rel, `${WHITEOUT_PREFIX}${name}`), '', { flag: 'wx', mode: 0o600 });
    }
  }

  /** Copy metadata onto the directories made, deepest first, so filling one never touches a finished mtime. */
  async finishDirs(): Promise<void> {
    const dirs = [...this.made].sort((a, b) => depth(b) - depth(a));
    for (const rel of dirs) {
      const st = await fs.lstat(path.join(this.upper, rel));
      const target = path.join(this.out, rel);
      await fs.lchown(target, st.uid, st.gid);
      await fs.chmod(target, st.mode & 0o7777);
      await fs.utimes(target, st.atime, st.mtime);
    }
  }

  /** Non-directories that exist in both trees: equal when of one type, owner, mode and content. */
  private async sameEntry(rel: string, up: Stats, low: Stats): Promise<boolean> {
    if (!sameMetadata(up, low)) return false;
    const a = path.join(this.upper, rel);
    const b = path.join(this.lower, rel);
    if (up.isSymbolicLink()) return (await fs.readlink(a)) === (await fs.readlink(b));
    if (up.isFile()) return up.size === low.size && (await sameBytes(a, b));
    return false; // anything else (fifos) is copied; copy() refuses what a layer cannot hold
  }

  /** Put an entry of `upper` (a whole subtree for a directory) into `out`. */
  private async copy(rel: string, st: Stats): Promise<void> {
    const from = path.join(this.upper, rel);
    const to = path.join(this.out, rel);
    await this.ensureDir(path.dirname(rel) === '.' ? '' : path.dirname(rel));
    if (st.isDirectory()) {
      await this.ensureDir(rel);
      for (const name of (await fs.readdir(from)).sort()) await this.copy(join(rel, name), await fs.lstat(path.join(from, name)));
    } else if (st.isFile()) {
      await fs.link(from, to);
    } else if (st.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(from), to);
      await fs.lchown(to, st.uid, st.gid);
      await fs.lutimes(to, st.atime, st.mtime);
    } else {
      throw catalogError(`cannot put /${rel} in a layer: only files, directories and symlinks are supported`);
    }
  }

  /** Make `rel` and its parents in `out` (metadata comes later, in finishDirs). */
  private async ensureDir(rel: string): Promise<void> {
    if (rel === '' || this.made.has(rel)) return;
    const parent = path.dirname(rel);
    await this.ensureDir(parent === '.' ? '' : parent);
    await fs.mkdir(path.join(this.out, rel));
    this.made.add(rel);
  }
}

function join(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

function depth(rel: string): number {
  return rel.split('/').length;
}

/** Same type, permission bits and owner. */
function sameMetadata(a: Stats, b: Stats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

/** Whether two files hold the same bytes (a bootstrap's files are a few MB at most, so reading them whole is fine). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fs.readFile(a), fs.readFile(b)]);
  return x.equals(y);
}
