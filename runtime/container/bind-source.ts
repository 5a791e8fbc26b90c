import fs, { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { forbidden, invalid } from '../errors.ts';
import { run } from '../util/exec.ts';
import { unmount } from './mountinfo.ts';

/** Where bind sources may come from: host roots the operator allowed, and a sandbox's workspace. */
export interface BindRules {
  /** Host directories whose content may be bound as it is named on the host. */
  roots: readonly string[];
  /** The learner's workspace: sources under `visiblePath` (what the shell sees) are read in `hostPath`. */
  workspace?: { hostPath: string; visiblePath: string };
}

/** Linux O_PATH: a descriptor that names a file without opening it (x86-64 and arm64 share the value). */
const O_PATH = 0o10000000;
const MAX_DEPTH = 256;

/** A bind source split into a trusted directory and the untrusted components below it. */
interface Located {
  root: string;
  parts: string[];
}

/** The trusted root a source lies under, or a refusal naming what may be mounted. */
function locate(source: string, rules: BindRules): Located {
  const parts = source.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw forbidden(`bind mount of ${source} is not allowed in layerlab: the path may not contain ".."`);
  const clean = `/${parts.join('/')}`;
  const under = (dir: string) => clean === dir || clean.startsWith(dir === '/' ? '/' : `${dir}/`);
  const below = (dir: string) => parts.slice(dir.split('/').filter(Boolean).length);
  const ws = rules.workspace;
  if (ws && under(ws.visiblePath)) return { root: ws.hostPath, parts: below(ws.visiblePath) };
  const root = rules.roots.map((r) => path.resolve(r)).find(under);
  if (root !== undefined) return { root, parts: below(root) };
  const allowed = [...(ws ? [ws.visiblePath] : []), ...rules.roots];
  const where = allowed.length > 0 ? `only paths under ${allowed.join(', ')} can be mounted` : 'no host paths can be mounted here';
  throw forbidden(`bind mount of ${source} is not allowed in layerlab: ${where}`);
}

/**
 * Open a bind source without ever following a link out of its root: the root (trusted) is opened, then each
 * component one at a time relative to the held parent (`/proc/self/fd/<fd>/<name>`, openat's equivalent)
 * with O_PATH|O_NOFOLLOW. Symbolic links are refused outright rather than resolved: a learner is root in
 * the shell and can plant `ln -s / /workspace/x`, and refusing is the rule nobody can argue around. Device
 * nodes are refused too. Returns an O_PATH descriptor of the final file; the caller closes it.
 */
export function openBindSource(source: string, rules: BindRules, opts: { create?: boolean } = {}): number {
  const { root, parts } = locate(source, rules);
  if (parts.length > MAX_DEPTH) throw forbidden(`bind mount of ${source} is not allowed in layerlab: it is nested too deep`);
  let fd = openOrMissing(root, O_PATH | constants.O_DIRECTORY, source);
  try {
    for (const name of parts) {
      const below = `/proc/self/fd/${fd}/${name}`;
      // `-v` creates a missing source directory, as dockerd does; made inside the held parent, never via a link.
      if (opts.create) makeDirIfMissing(below);
      const next = openOrMissing(below, O_PATH | constants.O_NOFOLLOW, source);
      fs.closeSync(fd);
      fd = next;
      const stat = fs.fstatSync(fd);
      if (stat.isSymbolicLink()) throw forbidden(`bind mount of ${source} is not allowed in layerlab: ${name} is a symbolic link`);
      if (stat.isBlockDevice() || stat.isCharacterDevice()) throw forbidden(`bind mount of ${source} is not allowed in layerlab: it is a device`);
    }
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function makeDirIfMissing(file: string): void {
  try {
    fs.mkdirSync(file, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function openOrMissing(file: string, flags: number, source: string): number {
  try {
    return fs.openSync(file, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
    throw err;
  }
}

/** Check that a bind source can be opened under the rules (at create); returns its cleaned form. */
export function checkBindSource(source: string, rules: BindRules, opts: { create?: boolean } = {}): string {
  fs.closeSync(openBindSource(source, rules, opts));
  return `/${source.split('/').filter((p) => p !== '' && p !== '.').join('/')}`;
}

/** Bind sources made safe to hand to runc, until runc has mounted them. */
export interface HeldSources {
  /** What to give runc for each source, in order: a staging mount only the engine can reach. */
  sources: string[];
  /** Unmount and remove the staging mounts (runc's container keeps its own copies). */
  release(): Promise<void>;
}

/**
 * Pin every bind source for runc. Each is opened as openBindSource does (no link followed), then bind-mounted
 * from its descriptor (`/proc/<engine pid>/fd/<n>`, not canonicalised, so the kernel mounts exactly the
 * opened inode) onto a staging point under `stagingDir`, which is engine state the learner cannot touch.
 * runc gets the staging path: a directory swapped for a link in the workspace after the check changes
 * nothing. (runc cannot take the descriptor path itself: it mounts in a new mount namespace, and the kernel
 * refuses to bind a mount that belongs to another namespace.)
 */
export async function holdBindSources(sources: readonly string[], rules: BindRules, stagingDir: string): Promise<HeldSources> {
  const staged: string[] = [];
  const release = async () => {
    for (const target of staged.splice(0)) await unmount(target, { lazy: false }).catch(() => undefined);
    await fsp.rm(stagingDir, { recursive: true, force: true });
  };
  try {
    await fsp.rm(stagingDir, { recursive: true, force: true });
    if (sources.length > 0) await fsp.mkdir(stagingDir, { recursive: true, mode: 0o700 });
    for (const [i, source] of sources.entries()) {
      const fd = openBindSource(source, rules);
      try {
        const target = path.join(stagingDir, String(i));
        if (fs.fstatSync(fd).isDirectory()) await fsp.mkdir(target, { mode: 0o700 });
        else await fsp.writeFile(target, '', { mode: 0o600 });
        await run('mount', ['--no-canonicalize', '--bind', `/proc/${process.pid}/fd/${fd}`, target]);
        staged.push(target);
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { sources: [...staged], release };
}
