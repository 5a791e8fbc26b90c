import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrno } from '../errors.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * The cgroup parent of one runtime's containers: `/layerlab/<tag>`, the tag derived from the state dir, so
 * that two engines on one host never touch each other's cgroups and a restarted engine finds its own.
 */
export function cgroupParent(stateDir: string): string {
  return `/layerlab/${createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 12)}`;
}

let listed: string[] | undefined;

/**
 * Controller hierarchies mounted under /sys/fs/cgroup (v1 controllers, name=systemd, the v2 mount). They do
 * not change while the engine runs: listed once (every container exit looks in each of them).
 */
async function hierarchies(): Promise<string[]> {
  if (listed) return listed;
  const names = await fs.readdir(CGROUP_ROOT).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names) {
    const dir = path.join(CGROUP_ROOT, name);
    const stat = await fs.lstat(dir).catch(() => undefined);
    if (stat?.isDirectory()) out.push(dir);
  }
  if (out.length > 0) listed = out;
  return out;
}

/** Remove a cgroup (relative path) from every hierarchy, children first; missing ones are fine. */
export async function removeCgroup(relPath: string): Promise<void> {
  await Promise.all((await hierarchies()).map((hierarchy) => removeTree(path.join(hierarchy, relPath))));
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(path.join(dir, e.name));
  await fs.rmdir(dir).catch((err: unknown) => {
    if (!isErrno(err, 'ENOENT')) throw err;
  });
}

/** Names of the child cgroups of `relPath` in any hierarchy (leftover containers after a crash). */
export async function childCgroups(relPath: string): Promise<string[]> {
  const names = new Set<string>();
  for (const hierarchy of await hierarchies()) {
    const entries = await fs.readdir(path.join(hierarchy, relPath), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) names.add(e.name);
  }
  return [...names];
}

/** Remove an empty cgroup (this runtime's parent, at shutdown) from every hierarchy; a busy one stays. */
export async function removeEmptyCgroup(relPath: string): Promise<void> {
  for (const hierarchy of await hierarchies()) await fs.rmdir(path.join(hierarchy, relPath)).catch(() => undefined);
}

/** Limits on everything one runtime runs together (a sandbox's total: containers, build steps, its shell). */
export interface SharedLimits {
  memoryBytes: number;
  pids: number;
  nanoCpus: number;
}

/**
 * Set the shared limits on the runtime's cgroup parent, creating it if needed; runc creates each container's
 * cgroup below it, and the kernel charges children to their parents (memory.use_hierarchy is 1 on this host;
 * pids and CFS quotas are hierarchical by design). Zero leaves a limit unset. cgroup v1 files, with the v2
 * names as fallback where the unified hierarchy has the controller.
 */
export async function limitCgroupParent(relPath: string, limits: SharedLimits): Promise<void> {
  const writes: Array<[controller: string, file: string, value: string]> = [];
  if (limits.memoryBytes > 0) writes.push(['memory', 'memory.limit_in_bytes', String(limits.memoryBytes)], ['unified', 'memory.max', String(limits.memoryBytes)]);
  if (limits.pids > 0) writes.push(['pids', 'pids.max', String(limits.pids)], ['unified', 'pids.max', String(limits.pids)]);
  if (limits.nanoCpus > 0) {
    const quota = String(Math.round(limits.nanoCpus / 1e4)); // µs per 100 ms period
    writes.push(['cpu', 'cpu.cfs_period_us', '100000'], ['cpu', 'cpu.cfs_quota_us', quota], ['unified', 'cpu.max', `${quota} 100000`]);
  }
  for (const [controller, file, value] of writes) {
    const dir = path.join(CGROUP_ROOT, controller, relPath);
    const present = controller === 'unified' ? await controllerEnabled(path.dirname(dir), file.split('.')[0]!) : await pathIsDir(path.join(CGROUP_ROOT, controller));
    if (!present) continue;
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, file), value);
  }
}

async function pathIsDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Whether the v2 controller is delegated to children of `dir` (else its files do not exist below it). */
async function controllerEnabled(dir: string, controller: string): Promise<boolean> {
  const text = await fs.readFile(path.join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '');
  return text.split(/\s+/).includes(controller);
}
