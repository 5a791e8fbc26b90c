import { createReadStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';
import { addEntry, addStream } from './tar-writer.ts';
import { invalid } from '../errors.ts';
import { run } from '../util/exec.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './tar-reader.ts';

export interface PackOptions {
  /**
   * The directory is an overlayfs upper dir: character devices 0/0 are whiteouts and directories with
   * `trusted.overlay.opaque=y` are opaque; both become their OCI tar form (`.wh.<name>`, `.wh..wh..opq`).
   */
  overlayUpper?: boolean;
  /** Relative paths (no leading slash) to leave out, e.g. mount points the runtime created. */
  exclude?: ReadonlySet<string>;
}

/**
 * Tar a directory tree as a layer: entries in lexical order per directory, names without `./`,
 * directories with a trailing slash, hard links kept as links. Symlinks are stored, never followed.
 */
export function packDirectory(root: string, opts: PackOptions = {}): Readable {
  const pack = tarStream.pack();
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  pack.pipe(out);
  void (async () => {
    const opaque = opts.overlayUpper ? await findOpaqueDirs(root) : new Set<string>();
    const links = new Map<string, string>();
    await walk(pack, root, '', opts, opaque, links);
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return out;
}

async function walk(
  pack: tarStream.Pack,
  root: string,
  rel: string,
  opts: PackOptions,
  opaque: Set<string>,
  links: Map<string, string>,
): Promise<void> {
  const names = (await fs.readdir(path.join(root, rel))).sort();
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (opts.exclude?.has(childRel)) continue;
    const full = path.join(root, childRel);
    const st = await fs.lstat(full);
    const base = headerBase(st);
    if (st.isDirectory()) {
      await addEntry(pack, { ...base, name: `${childRel}/`, type: 'directory' });
      if (opaque.has(childRel)) {
        await addEntry(pack, { ...base, name: `${childRel}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777 }, EMPTY);
      }
      await walk(pack, root, childRel, opts, opaque, links);
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        await addEntry(pack, { ...base, name: childRel, type: 'link', linkname: first });
      } else {
        if (st.nlink > 1) links.set(key, childRel);
        await addStream(pack, { ...base, name: childRel, type: 'file', size: st.size }, createReadStream(full));
      }
    } else if (st.isSymbolicLink()) {
      await addEntry(pack, { ...base, name: childRel, type: 'symlink', linkname: await fs.readlink(full) });
    } else if (st.isFIFO()) {
      await addEntry(pack, { ...base, name: childRel, type: 'fifo' });
    } else if (opts.overlayUpper && st.isCharacterDevice() && st.rdev === 0) {
      const whiteout = rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`;
      await addEntry(pack, { ...base, name: whiteout, type: 'file', mode: 0o600 }, EMPTY);
    } else if (st.isSocket()) {
      continue; // sockets cannot be archived (tar and Docker skip them too)
    } else {
      throw invalid(`cannot store /${childRel} in a layer: device nodes are not allowed`);
    }
  }
}

const EMPTY = Buffer.alloc(0);

function headerBase(st: Stats): Partial<Header> & { name: string } {
  return { name: '', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
}

/** Directories under `root` carrying the overlay opaque xattr, as root-relative paths (no links followed). */
export async function findOpaqueDirs(root: string): Promise<Set<string>> {
  const args = ['-R', '-P', '-h', '--absolute-names', '-n', 'trusted.overlay.opaque', root];
  const out = await run('getfattr', args, { okExitCodes: [1] });
  const dirs = new Set<string>();
  let current: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) current = unescapeGetfattr(line.slice(8));
    else if (current !== undefined && line === 'trusted.overlay.opaque="y"') dirs.add(path.relative(root, current));
  }
  dirs.delete('');
  return dirs;
}

/** getfattr prints unusual bytes in file names as octal escapes (\012). */
function unescapeGetfattr(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))), 'latin1').toString('utf8');
}
