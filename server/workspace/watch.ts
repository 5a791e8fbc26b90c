import fs, { promises as fsp } from 'node:fs';
import { at, openDirAt, openRoot, type Dir } from './dir-fd.ts';
import { MAX_DEPTH } from './paths.ts';

/** How long changes are gathered before one notification. */
const DEBOUNCE_MS = 100;

interface Watched {
  watcher: fs.FSWatcher;
  /** dev:ino of the directory when it was watched: a different inode at the same path is a new directory. */
  id: string;
}

/**
 * Watch every directory of the workspace with one non-recursive inotify watch each. Node's recursive
 * fs.watch is not used: on Linux it follows symlinked directories and polls files outside the root. Each
 * watch is added through `/proc/self/fd/<fd>` of a directory opened without following links, so a directory
 * swapped for a link between our lstat and the watch cannot point the watch outside. After each batch the
 * tree is walked again (lstat only, at most `maxDirs` directories) to watch new directories and drop gone ones.
 */
export function watchWorkspace(root: string, onChange: (paths: string[]) => void, opts: { maxDirs: number; ignorePrefix: string }): () => void {
  const watched = new Map<string, Watched>();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let syncing: Promise<void> = Promise.resolve();

  const note = (dirPath: string, procName: string, filename: string | null) => {
    if (stopped) return;
    // A watched directory that moves reports itself under the basename of the path we watched (the fd number).
    const name = filename === null || filename === procName ? undefined : filename;
    if (name?.startsWith(opts.ignorePrefix)) return;
    const path = name === undefined ? dirPath : dirPath === '' ? name : `${dirPath}/${name}`;
    if (path !== '') pending.add(path);
    timer ??= setTimeout(flush, DEBOUNCE_MS);
  };

  const flush = () => {
    timer = undefined;
    if (stopped) return;
    const paths = [...pending].sort();
    pending.clear();
    syncing = syncing.then(() => sync()).catch(() => undefined);
    if (paths.length > 0) onChange(paths);
  };

  const sync = async () => {
    if (stopped) return;
    const found = new Map<string, string>();
    const rootDir = await openRoot(root);
    try {
      await walk(rootDir, '', 0, found, opts.maxDirs, (dir, path, id) => {
        const old = watched.get(path);
        if (old?.id === id) return;
        old?.watcher.close();
        const procName = String(dir.fd);
        const watcher = fs.watch(at(dir), { persistent: false }, (_event, filename) => note(path, procName, filename));
        watcher.on('error', () => undefined);
        watched.set(path, { watcher, id });
      });
    } finally {
      await rootDir.close();
    }
    for (const [path, w] of watched) {
      if (found.has(path)) continue;
      w.watcher.close();
      watched.delete(path);
    }
  };

  syncing = sync().catch(() => undefined);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    void syncing.then(() => {
      for (const w of watched.values()) w.watcher.close();
      watched.clear();
    });
  };
}

/** Visit `dir` and the directories below it (never through a link), at most `max` in all. */
async function walk(dir: Dir, path: string, depth: number, found: Map<string, string>, max: number, visit: (dir: Dir, path: string, id: string) => void): Promise<void> {
  if (found.size >= max) return;
  const st = await dir.stat();
  const id = `${st.dev}:${st.ino}`;
  found.set(path, id);
  visit(dir, path, id);
  if (depth + 1 >= MAX_DEPTH) return;
  const stream = await fsp.opendir(at(dir), { bufferSize: 64 });
  const subdirs: string[] = [];
  try {
    for await (const dirent of stream) if (dirent.isDirectory()) subdirs.push(dirent.name);
  } finally {
    await stream.close().catch(() => undefined);
  }
  for (const name of subdirs) {
    if (found.size >= max) return;
    const sub = await openDirAt(dir, name).catch(() => undefined);
    if (!sub) continue;
    try {
      await walk(sub, path === '' ? name : `${path}/${name}`, depth + 1, found, max, visit);
    } finally {
      await sub.close();
    }
  }
}
