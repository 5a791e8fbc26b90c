import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { MAX_MESSAGE_BYTES, type FileContent, type FileEntry } from '../protocol.ts';
import { at, ensureDirAt, lstatAt, openDirPath, openRoot, toEntry, withParent, type Dir } from './dir-fd.ts';
import { fromErrno, WorkspaceError } from './errors.ts';
import { splitPath } from './paths.ts';
import { listTree, removeAt, TEMP_PREFIX } from './tree.ts';
import { watchWorkspace } from './watch.ts';

export { WorkspaceError } from './errors.ts';

export interface WorkspaceLimits {
  /** Largest file opened or saved as text, in bytes (default MAX_MESSAGE_BYTES, 1 MiB). */
  maxFileBytes?: number;
  /** Most entries a tree listing returns (default 5000). */
  maxEntries?: number;
  /** Most directories watched for changes (default 1000). */
  maxWatchedDirs?: number;
}

/** How much of a file decides text or binary (a NUL byte there means binary, as git and editors judge). */
const SNIFF_BYTES = 8192;

/**
 * The browser's view of one sandbox's workspace directory. The learner is root in a shell that mounts it,
 * and hostile: every path is checked lexically (splitPath) and then reached one component at a time through
 * held descriptors without following links (dir-fd.ts), so no operation can read, write, create, rename or
 * delete anything outside `root`, even while the learner swaps directories for links. Saves are atomic
 * (a fresh temp file renamed over the target), so a hardlink to a file outside is replaced, not written.
 * Failures the learner can cause are WorkspaceErrors with an HTTP status.
 */
export class WorkspaceFiles {
  private readonly maxFileBytes: number;
  private readonly maxEntries: number;
  private readonly maxWatchedDirs: number;

  constructor(
    readonly root: string,
    limits: WorkspaceLimits = {},
  ) {
    this.maxFileBytes = limits.maxFileBytes ?? MAX_MESSAGE_BYTES;
    this.maxEntries = limits.maxEntries ?? 5000;
    this.maxWatchedDirs = limits.maxWatchedDirs ?? 1000;
  }

  /** The whole tree, sorted by path, at most `maxEntries` entries; links are listed, never followed. */
  async list(): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    const dir = await openRoot(this.root);
    try {
      await listTree(dir, '', 0, out, this.maxEntries);
    } finally {
      await dir.close();
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** One regular file: its text, or `binary`/`too-large` with its size. Anything else is a 400. */
  async read(path: string): Promise<FileContent> {
    return withParent(this.root, splitPath(path), path, async (dir, name) => {
      // O_NOFOLLOW: a link is refused; O_NONBLOCK: opening a FIFO returns at once (and fstat refuses it).
      const fh = await fsp.open(at(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: unknown) => {
        throw fromErrno(err, path);
      });
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new WorkspaceError(400, `${path}: not a regular file`);
        const tooLarge = { path, kind: 'too-large', size: st.size, mtimeMs: st.mtimeMs } as const;
        if (st.size > this.maxFileBytes) return tooLarge;
        // The file may grow between fstat and read: read one byte past the cap to notice.
        const data = await readUpTo(fh, this.maxFileBytes + 1);
        if (data.length > this.maxFileBytes) return { ...tooLarge, size: data.length };
        const text = decodeText(data);
        if (text === undefined) return { path, kind: 'binary', size: data.length, mtimeMs: st.mtimeMs };
        return { path, kind: 'text', content: text, mtimeMs: st.mtimeMs };
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * Save a file atomically (creating it; its directory must exist). An existing file keeps its mode; a new
   * one is 0644 unless `mode` says otherwise. A link or a non-file at the path is refused.
   */
  async write(path: string, content: string | Uint8Array, options: { mode?: number } = {}): Promise<FileEntry> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (data.length > this.maxFileBytes) throw new WorkspaceError(413, `${path}: larger than ${this.maxFileBytes} bytes`);
    return withParent(this.root, splitPath(path), path, (dir, name) => writeAt(dir, name, data, path, options.mode));
  }

  /** Create one directory (mode 0755); its parent must exist. */
  async mkdir(path: string): Promise<FileEntry> {
    return withParent(this.root, splitPath(path), path, async (dir, name) => {
      if (await lstatAt(dir, name)) throw new WorkspaceError(409, `${path}: already exists`);
      const { dir: made } = await ensureDirAt(dir, name).catch((err: unknown) => {
        throw fromErrno(err, path);
      });
      try {
        return toEntry(path, await made.stat());
      } finally {
        await made.close();
      }
    });
  }

  /** Move a file, link or directory; the destination must not exist (409). A link is moved, not followed. */
  async rename(from: string, to: string): Promise<FileEntry> {
    const src = splitPath(from);
    const dst = splitPath(to);
    return withParent(this.root, src, from, (fromDir, fromName) =>
      withParent(this.root, dst, to, async (toDir, toName) => {
        if (!(await lstatAt(fromDir, fromName))) throw new WorkspaceError(404, `${from}: no such file or directory`);
        if (await lstatAt(toDir, toName)) throw new WorkspaceError(409, `${to}: already exists`);
        await fsp.rename(at(fromDir, fromName), at(toDir, toName)).catch((err: unknown) => {
          throw fromErrno(err, `${from} → ${to}`);
        });
        const st = await lstatAt(toDir, toName);
        if (!st) throw new WorkspaceError(404, `${to}: removed right after the rename`);
        return toEntry(to, st);
      }),
    );
  }

  /** Delete a file or link, or a directory with everything in it (links inside are deleted, not followed). */
  async remove(path: string): Promise<void> {
    return withParent(this.root, splitPath(path), path, async (dir, name) => {
      if (!(await lstatAt(dir, name))) throw new WorkspaceError(404, `${path}: no such file or directory`);
      await removeAt(dir, name, 0, path).catch((err: unknown) => {
        throw err instanceof WorkspaceError ? err : fromErrno(err, path);
      });
    });
  }

  /**
   * Copy files into the workspace (a lesson's starter files), creating their directories; existing files are
   * replaced. Returns the entries written.
   */
  async install(files: ReadonlyArray<{ path: string; content: Uint8Array; mode: number }>): Promise<FileEntry[]> {
    const written: FileEntry[] = [];
    for (const file of files) {
      const parts = splitPath(file.path);
      await this.mkdirs(parts.slice(0, -1), file.path);
      written.push(await this.write(file.path, file.content, { mode: file.mode }));
    }
    return written;
  }

  /**
   * Call `onChange` with the workspace paths that changed on disk (from the terminal or the server), batched
   * every ~100 ms. Only directories inside the workspace are watched. Returns the function that stops it.
   */
  watch(onChange: (paths: string[]) => void): () => void {
    return watchWorkspace(this.root, onChange, { maxDirs: this.maxWatchedDirs, ignorePrefix: TEMP_PREFIX });
  }

  private async mkdirs(parts: string[], display: string): Promise<void> {
    let dir = await openDirPath(this.root, [], display);
    try {
      for (const part of parts) {
        const next = await ensureDirAt(dir, part).catch((err: unknown) => {
          throw fromErrno(err, display);
        });
        await dir.close();
        dir = next.dir;
      }
    } finally {
      await dir.close();
    }
  }
}

/** Write `data` to a fresh temp file beside the target and rename it over the target. */
async function writeAt(dir: Dir, name: string, data: Uint8Array, display: string, mode: number | undefined): Promise<FileEntry> {
  const existing = await lstatAt(dir, name);
  if (existing?.isSymbolicLink()) throw new WorkspaceError(400, `${display}: is a symbolic link; edit the file it points to instead`);
  if (existing?.isDirectory()) throw new WorkspaceError(400, `${display}: is a directory`);
  if (existing && !existing.isFile()) throw new WorkspaceError(400, `${display}: not a regular file`);
  const tmp = TEMP_PREFIX + randomBytes(8).toString('hex');
  // O_EXCL|O_NOFOLLOW: the temp name is new and ours, whatever the learner plants beside it.
  const fh = await fsp.open(at(dir, tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let st;
  try {
    await fh.writeFile(data);
    // Permission bits only: a save never creates a setuid or setgid file.
    await fh.chmod((mode ?? (existing ? existing.mode : 0o644)) & 0o777);
    st = await fh.stat();
  } catch (err) {
    await fh.close();
    await fsp.unlink(at(dir, tmp)).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    // rename replaces the directory entry: a file that was a hardlink to an outside inode is not written.
    await fsp.rename(at(dir, tmp), at(dir, name));
  } catch (err) {
    await fsp.unlink(at(dir, tmp)).catch(() => undefined);
    throw fromErrno(err, display);
  }
  return toEntry(display, st);
}

/** Read at most `limit` bytes from the start of an open file. */
async function readUpTo(fh: fsp.FileHandle, limit: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(limit, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, limit - total), total);
    if (bytesRead === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

/** The file as text, or undefined when it is binary: a NUL in its first 8 KiB, or bytes that are not UTF-8. */
function decodeText(data: Buffer): string | undefined {
  if (data.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    return undefined;
  }
}
