import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Everything a server's sandboxes could leave on the host: mounts and loop devices under its state dir,
 * sandbox network namespaces, engine cgroups, processes whose command line names the state dir, and
 * sandbox directories. After a server stops, every list must be empty.
 */
export interface HostTraces {
  mounts: string[];
  loops: string[];
  netns: string[];
  cgroups: string[];
  processes: string[];
  dirs: string[];
}

/** What a host without any of the server's sandboxes shows. */
export const NOTHING: HostTraces = { mounts: [], loops: [], netns: [], cgroups: [], processes: [], dirs: [] };

/** `sandboxIds`: the sandboxes whose cgroups to look for (runtime/container/cgroups.ts names them after the runtime's state dir, `<sandbox>/engine/engine`). */
export function hostTraces(stateDir: string, sandboxIds: Iterable<string> = []): HostTraces {
  const lines = (file: string, args: string[]) => (spawnSync(file, args, { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${stateDir}/sandboxes`));
  const loops = lines('losetup', ['-a']).filter((l) => l.includes(`${stateDir}/sandboxes`));
  // This server's sandbox netns only (server/sandbox/manager.ts names them after the sandboxes directory).
  const prefix = `llsb-${createHash('sha256').update(path.join(stateDir, 'sandboxes')).digest('hex').slice(0, 8)}-`;
  const netns = lines('ip', ['netns', 'list']).map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix));
  const cgroups = [...sandboxIds].flatMap((id) => {
    const tag = createHash('sha256').update(path.join(stateDir, 'sandboxes', id, 'engine', 'engine')).digest('hex').slice(0, 12);
    return readdirSync('/sys/fs/cgroup').filter((h) => existsSync(path.join('/sys/fs/cgroup', h, 'layerlab', tag))).map((h) => `${h}/${tag}`);
  });
  const processes = lines('pgrep', ['-af', `${stateDir}/sandboxes`]);
  const sandboxDir = path.join(stateDir, 'sandboxes');
  const dirs = existsSync(sandboxDir) ? readdirSync(sandboxDir) : [];
  return { mounts, loops, netns, cgroups: cgroups.sort(), processes, dirs };
}
