import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BindRules } from '../container/bind-source.ts';
import type { VolumeHooks } from '../container/runtime.ts';
import { resolveInRoot } from '../container/rootfs-path.ts';
import type { BindMount, ContainerRecord, MountPoint } from '../container/types.ts';
import { isErrno } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { Store } from '../store/store.ts';
import { run } from '../util/exec.ts';
import { mountRequests, volumeNames } from './mount-points.ts';
import type { VolumeStore } from './store.ts';

/**
 * The volume service joined to the container runtime: mounts are decided at create (named volumes created
 * on first mention, anonymous ones made for the image's VOLUMEs and `-v /path`), fresh volumes are filled
 * from the image at their first start, and `rm -v` / `--rm` delete the anonymous ones.
 */
export function volumeHooks(volumes: () => VolumeStore, store: Store, bindRules: BindRules, events?: EventBus): VolumeHooks {
  return {
    async prepare(record) {
      const image = await store.imageConfig(record.Image);
      const requests = mountRequests(record.HostConfig, Object.keys(record.Config.Volumes ?? {}), Object.keys(image.config?.Volumes ?? {}), bindRules);
      const out: MountPoint[] = [];
      for (const r of requests) {
        if (r.kind === 'bind') {
          out.push({ Type: 'bind', Source: r.source, Destination: r.destination, Mode: r.mode, RW: r.rw, Propagation: 'rprivate' });
          continue;
        }
        const existed = r.name !== undefined && (await volumes().get(r.name).then(() => true, () => false));
        const v = await volumes().create(r.name ? { Name: r.name } : {}, r.name === undefined);
        if (!existed) events?.emit('volume', 'create', v.Name, { driver: 'local' });
        out.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: r.destination, Driver: 'local', Mode: r.mode, RW: r.rw, Propagation: '' });
      }
      return out;
    },
    async beforeStart(record, rootfs) {
      const binds: BindMount[] = [];
      for (const m of record.MountPoints ?? []) {
        if (m.Type !== 'volume' || !m.Name) continue;
        // `-v name:/path:nocopy` asks for the volume as it is, without the image's content.
        const copy = !m.Mode.split(',').includes('nocopy');
        if (copy && !(await volumes().isPopulated(m.Name))) await populate(volumes(), m.Name, rootfs, m.Destination);
        binds.push({ source: volumes().mountpoint(m.Name), destination: m.Destination, readOnly: !m.RW });
      }
      return binds;
    },
    async release(record, removeAnonymous) {
      if (!removeAnonymous) return;
      for (const name of volumeNames(record)) {
        if (!(await volumes().isAnonymous(name))) continue;
        // Another container may still use it (`--volumes-from` style sharing): then it stays.
        await volumes()
          .remove(name)
          .then(() => events?.emit('volume', 'destroy', name, { driver: 'local' }))
          .catch(() => undefined);
      }
    },
  };
}

/**
 * Copy what the image has at the mount point into a fresh, empty volume (dockerd does this once, on first
 * mount). The container is not running, so its rootfs holds still; the copy is made by the host's `cp` into
 * a directory no container can see, then moved into the volume entry by entry with rename(2), which never
 * follows a link another container sharing the volume might have planted meanwhile.
 */
async function populate(volumes: VolumeStore, name: string, rootfs: string, destination: string): Promise<void> {
  const data = volumes.mountpoint(name);
  const source = await resolveInRoot(rootfs, destination);
  const st = await fs.lstat(source).catch(() => undefined);
  if (st?.isDirectory() && (await fs.readdir(data)).length === 0) {
    const staging = path.join(path.dirname(data), '_populate');
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { mode: 0o700 });
    try {
      await run('cp', ['-a', '--', `${source}/.`, staging]);
      for (const entry of await fs.readdir(staging)) {
        await fs.rename(path.join(staging, entry), path.join(data, entry)).catch((err: unknown) => {
          if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST') && !isErrno(err, 'EISDIR')) throw err;
        });
      }
      await fs.chown(data, st.uid, st.gid);
      await fs.chmod(data, st.mode & 0o7777);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }
  await volumes.markPopulated(name);
}

/** The containers (IDs) whose records reference a volume. */
export function volumeUsers(list: () => Array<{ record: ContainerRecord }>): (name: string) => string[] {
  return (name) => list().filter((c) => volumeNames(c.record).includes(name)).map((c) => c.record.Id);
}
