import { promises as fs } from 'node:fs';
import path from 'node:path';
import { childCgroups, removeCgroup } from './cgroups.ts';
import { ZERO_TIME } from './container-store.ts';
import { mountsUnder, unmount } from './mountinfo.ts';
import type { Runc } from './runc.ts';
import type { ContainerState } from './types.ts';

/**
 * Remove everything a previous engine process left running or mounted: containers in runc's state (killed
 * and deleted), overlay mounts under the containers dir, container cgroups under this runtime's parent and
 * temporary exec files. Containers do not outlive their engine; their records stay and say they exited.
 */
export async function reapLeftovers(runc: Runc, containersDir: string, cgroupParent: string, logFile: string): Promise<void> {
  for (const id of await runc.list(logFile).catch(() => [] as string[])) {
    await runc.call(['delete', '--force', id], logFile).catch(() => undefined);
  }
  for (const mount of await mountsUnder(containersDir)) await unmount(mount);
  for (const leaf of await childCgroups(cgroupParent)) await removeCgroup(`${cgroupParent}/${leaf}`);
  for (const id of await fs.readdir(containersDir).catch(() => [] as string[])) {
    const dir = path.join(containersDir, id);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith('exec-')).map((n) => fs.rm(path.join(dir, n), { force: true })));
  }
}

/**
 * Delete the writable layers in `areaDir` of containers that have no record: a removal forgets the record
 * before it deletes the layer, so a crash in between leaves one. Only container IDs are touched (the area
 * also holds volumes/ and system/).
 */
export async function removeOrphanLayers(areaDir: string, known: ReadonlySet<string>): Promise<void> {
  const names = await fs.readdir(areaDir).catch(() => [] as string[]);
  const orphans = names.filter((n) => /^[0-9a-f]{64}$/.test(n) && !known.has(n));
  await Promise.all(orphans.map((n) => fs.rm(path.join(areaDir, n), { recursive: true, force: true })));
}

/**
 * The state a container is left in when its engine went away while it ran: exited with 255 (what dockerd
 * records when it cannot learn the status) and a note saying why.
 */
export function interruptedState(state: ContainerState, now: string): ContainerState {
  if (!state.Running && !state.Paused && !state.Restarting && state.Status !== 'removing') return state;
  return {
    ...state,
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    Pid: 0,
    ExitCode: 255,
    Error: 'the engine restarted while the container was running',
    FinishedAt: state.FinishedAt === ZERO_TIME || state.Running ? now : state.FinishedAt,
  };
}
