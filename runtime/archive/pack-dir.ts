import { createReadStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';
import { addEntry, addStream } from './tar-writer.ts';
import { invalid } from '../errors.ts';
import { run } from '../util/exec.ts';
import { BULK_STREAM_BYTES } from '../util/fsx.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './tar-reader.ts';

export interface PackOptions {
  /**
   * The directory is an overlayfs upper dir: character devices 0/0 are whiteouts and directories with
   * `trusted.overlay.opaque=y` are opaque; both become their OCI tar form (`.wh.<name>`, `.wh..wh..opq`).
   */
  overlayUpper?: boolean;
  /** Relative paths (no leading slash) to leave out, e.g. mount points the runtime created. */
  exclude?: ReadonlySet<string>;
  /** Counts to fill in while packing (the caller reads them once the stream has ended). */
  tally?: PackTally;
  /** Fail the stream beyond this many entries (a learner's upper dir can hold any number of files). */
  maxEntries?: number;
  /**
   * Also give every entry the times its header carries (mtime cut to whole seconds, atime = mtime), as
   * extracting the tar would, so the directory itself can serve as the layer's extracted form.
   */
  settleTimes?: boolean;
}

/** What a packed layer holds: its entries and Docker's layer size (file bytes plus symlink target lengths). */
export interface PackTally {
  entries: number;
  size: number;
  /**
   * Entries the tar holds in another form than the directory (names starting with `.wh.`, which extraction
   * reads as whiteouts; overlay whiteouts and opaque directories; sockets, left out): with any, the directory
   * is not the layer's extracted form.
   */
  divergent: number;
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
    const tally = opts.tally ?? { entries: 0, size: 0, divergent: 0 };
    await walk({ pack, root, opts, tally, opaque, links: new Map() }, '');
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return out;
}

/** State of one packing walk. */
interface Walk {
  pack: tarStream.Pack;
  root: string;
  opts: PackOptions;
  tally: PackTally;
  opaque: Set<string>;
  /** First path of each multiply-linked inode, by `dev:ino`. */
  links: Map<string, string>;
}

async function walk(w: Walk, rel: string): Promise<void> {
  const names = (await fs.readdir(path.join(w.root, rel))).sort();
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (w.opts.exclude?.has(childRel)) continue;
    if (++w.tally.entries > (w.opts.maxEntries ?? Number.POSITIVE_INFINITY)) throw invalid(`layer has more than ${w.opts.maxEntries} entries`);
    if (name.startsWith(WHITEOUT_PREFIX)) w.tally.divergent++;
    const full = path.join(w.root, childRel);
    const st = await fs.lstat(full);
    await packEntry(w, rel, name, st);
    if (w.opts.settleTimes) await fs.lutimes(full, headerTime(st), headerTime(st));
  }
}

async function packEntry(w: Walk, rel: string, name: string, st: Stats): Promise<void> {
  const { pack, tally } = w;
  const childRel = rel === '' ? name : `${rel}/${name}`;
  const full = path.join(w.root, childRel);
  const base = headerBase(st);
  if (st.isDirectory()) {
    await addEntry(pack, { ...base, name: `${childRel}/`, type: 'directory' });
    if (w.opaque.has(childRel)) {
      tally.divergent++;
      await addEntry(pack, { ...base, name: `${childRel}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777 }, EMPTY);
    }
    await walk(w, childRel);
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? w.links.get(key) : undefined;
    if (first !== undefined) {
      await addEntry(pack, { ...base, name: childRel, type: 'link', linkname: first });
    } else {
      if (st.nlink > 1) w.links.set(key, childRel);
      tally.size += st.size;
      await addStream(pack, { ...base, name: childRel, type: 'file', size: st.size }, createReadStream(full, { highWaterMark: BULK_STREAM_BYTES }));
    }
  } else if (st.isSymbolicLink()) {
    const linkname = await fs.readlink(full);
    tally.size += Buffer.byteLength(linkname);
    await addEntry(pack, { ...base, name: childRel, type: 'symlink', linkname });
  } else if (st.isFIFO()) {
    await addEntry(pack, { ...base, name: childRel, type: 'fifo' });
  } else if (w.opts.overlayUpper && st.isCharacterDevice() && st.rdev === 0) {
    tally.divergent++;
    await addEntry(pack, { ...base, name: rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`, type: 'file', mode: 0o600 }, EMPTY);
  } else if (st.isSocket()) {
    tally.divergent++; // sockets cannot be archived (tar and Docker skip them too)
  } else {
    throw invalid(`cannot store /${childRel} in a layer: device nodes are not allowed`);
  }
}

const EMPTY = Buffer.alloc(0);

function headerBase(st: Stats): Partial<Header> & { name: string } {
  return { name: '', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: headerTime(st) };
}

/** Tar headers carry whole seconds (as moby's do, for reproducible layers). */
function headerTime(st: Stats): Date {
  return new Date(Math.floor(st.mtimeMs / 1000) * 1000);
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
