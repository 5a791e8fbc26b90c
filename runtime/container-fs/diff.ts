import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { findOpaqueDirs } from '../archive/pack-dir.ts';
import type { ContainerRuntime } from '../container/runtime.ts';
import { forbidden } from '../errors.ts';
import { MAX_DEPTH, release, RootFs, type Node } from './root-fd.ts';

/** Docker's change kinds (`GET /containers/{id}/changes`): 0 modified, 1 added, 2 deleted. */
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

/**
 * `docker diff`: the container's upper dir compared with what lies under it (the init layer, then the
 * image's layers), with dockerd's rules (builder-facts §6.4): A for paths the lowers lack, D for whiteouts
 * of paths they have, C for non-directories whose mode, owner, rdev, size or mtime differ, and for a
 * directory whose mode or owner differ or which holds any reported change. Comparing against the init
 * layer too is what keeps its placeholders (/etc/hosts, /.dockerenv, …) out. The upper dir is written by the
 * container as this runs, so it is walked through descriptors only (root-fd.ts).
 */
export async function containerChanges(runtime: ContainerRuntime, idOrName: string): Promise<Change[]> {
  const { upper, lowers } = await runtime.withRootfs(idOrName, async (view) => ({ upper: view.upper, lowers: [view.initLayer, ...view.imageLowers] }));
  const rootfs = await RootFs.open(upper);
  try {
    const out: Change[] = [];
    const ctx: DiffContext = { rootfs, lowers, opaque: await findOpaqueDirs(upper) };
    await walk(ctx, rootfs.root, out);
    return out;
  } finally {
    await rootfs.close();
  }
}

interface DiffContext {
  rootfs: RootFs;
  /** Init layer, then the image's layers, topmost first. */
  lowers: readonly string[];
  /** Upper dirs that hide everything below them (deleted and made again), as root-relative paths. */
  opaque: ReadonlySet<string>;
}

/** Report the changes under `dir`; true when anything was reported. */
async function walk(ctx: DiffContext, dir: Node, out: Change[]): Promise<boolean> {
  if (dir.path.split('/').length > MAX_DEPTH) throw forbidden(`${dir.path} is nested more than ${MAX_DEPTH} levels deep`);
  let any = false;
  const names = (await ctx.rootfs.list(dir)).sort();
  for (const name of names) {
    const node = await ctx.rootfs.child(dir, name);
    if (!node) continue;
    try {
      if (await visit(ctx, node, out)) any = true;
    } finally {
      await release(node);
    }
  }
  if (ctx.opaque.has(dir.path.slice(1))) {
    // What the lowers had here is gone unless the upper has it again: one D per hidden entry.
    const kept = new Set(names);
    for (const name of await lowerNames(ctx.lowers, dir.path)) {
      if (kept.has(name)) continue;
      out.push({ Path: `${dir.path}/${name}`, Kind: 2 });
      any = true;
    }
  }
  return any;
}

async function visit(ctx: DiffContext, node: Node, out: Change[]): Promise<boolean> {
  const st = node.stat;
  const below = await lowerStat(ctx.lowers, node.path);
  if (st.isCharacterDevice() && st.rdev === 0) {
    if (!below) return false;
    out.push({ Path: node.path, Kind: 2 });
    return true;
  }
  if (!st.isDirectory()) {
    if (below && sameFile(st, below)) return false;
    out.push({ Path: node.path, Kind: below ? 0 : 1 });
    return true;
  }
  // A directory's own line comes before its children's, as dockerd prints them.
  const at = out.length;
  const childChanged = await walk(ctx, node, out);
  const changed = !below || childChanged || !sameOwnerMode(st, below);
  if (changed) out.splice(at, 0, { Path: node.path, Kind: below ? 0 : 1 });
  return changed;
}

/** The path in the topmost lower that has it; undefined when absent or whited out there. */
async function lowerStat(lowers: readonly string[], containerPath: string): Promise<Stats | undefined> {
  for (const lower of lowers) {
    const st = await fsp.lstat(path.join(lower, containerPath)).catch(() => undefined);
    if (!st) continue;
    return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
  }
  return undefined;
}

/** Entries the lowers have in a directory (whiteouts excluded), sorted. */
async function lowerNames(lowers: readonly string[], containerPath: string): Promise<string[]> {
  const names = new Set<string>();
  for (const lower of lowers) {
    for (const name of await fsp.readdir(path.join(lower, containerPath)).catch(() => [] as string[])) {
      if (await lowerStat(lowers, `${containerPath}/${name}`)) names.add(name);
    }
  }
  return [...names].sort();
}

function sameOwnerMode(a: Stats, b: Stats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.rdev === b.rdev;
}

function sameFile(a: Stats, b: Stats): boolean {
  return sameOwnerMode(a, b) && a.size === b.size && Math.floor(a.mtimeMs) === Math.floor(b.mtimeMs);
}
