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
