import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { conflict, invalid, isErrno, notFound } from '../errors.ts';
import { MAX_DEPTH, release, RootFs, type Node } from '../container-fs/root-fd.ts';
import { atomicWriteFile, readJsonIfExists } from '../util/fsx.ts';
import { KeyedMutex } from '../util/locks.ts';
import { volumeFilter, type VolumeFilters } from './filters.ts';

/** What layerlab keeps about a volume besides its data (`<root>/<name>/volume.json`). */
interface VolumeMeta {
  Name: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  /** Made for one container (`-v /path`, image VOLUME): `docker rm -v` removes it with the container. */
  anonymous: boolean;
  /** The image's content at the mount point has been copied in (done once, on first use, as dockerd does). */
  populated: boolean;
}

/** Docker's volume object (`GET /volumes/{name}`); `UsageData` only in `system df`. */
export interface Volume {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { RefCount: number; Size: number };
}

export interface VolumeCreateOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** dockerd's check for local volume names, with its message (a relative host path ends up here too). */
export function checkVolumeName(name: string): void {
  if (!NAME.test(name)) {
    throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/**
 * The engine's volumes: one directory per volume under `root` (on the engine's size-limited writable area, so
 * a volume cannot fill the host), the data in `_data` as with Docker's local driver. `usersOf(name)` tells
 * which containers reference a volume; a volume in use cannot be removed.
 */
export class VolumeStore {
  private readonly lock = new KeyedMutex();

  private constructor(
    readonly root: string,
    private readonly usersOf: (name: string) => string[],
  ) {}

  static async open(root: string, usersOf: (name: string) => string[]): Promise<VolumeStore> {
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
    return new VolumeStore(root, usersOf);
  }

  mountpoint(name: string): string {
    return path.join(this.root, name, '_data');
  }

  /** `docker volume create`: an existing name is returned as it is (dockerd's behaviour), not an error. */
  create(opts: VolumeCreateOptions, anonymous = false): Promise<Volume> {
    const name = opts.Name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    if (opts.Driver && opts.Driver !== 'local') throw notFound(`error looking up volume plugin ${opts.Driver}: plugin "${opts.Driver}" not found`);
    if (opts.DriverOpts && Object.keys(opts.DriverOpts).length > 0) throw invalid(`create ${name}: local volume options are not supported in layerlab`);
    return this.lock.run('volumes', async () => {
      const existing = await this.meta(name);
      if (existing) return this.shape(existing);
      const meta: VolumeMeta = { Name: name, CreatedAt: goTime(new Date()), Labels: opts.Labels ?? (anonymous ? null : {}), Options: anonymous ? null : {}, anonymous, populated: false };
      await fs.mkdir(path.join(this.root, name, '_data'), { recursive: true, mode: 0o755 });
      await atomicWriteFile(path.join(this.root, name, 'volume.json'), JSON.stringify(meta), 0o600);
      return this.shape(meta);
    });
  }

  /** `GET /volumes/{name}`: 404 with dockerd's text. */
  async get(name: string): Promise<Volume> {
    return this.shape(await this.require(name));
  }

  async isAnonymous(name: string): Promise<boolean> {
    return (await this.meta(name))?.anonymous === true;
  }

  async isPopulated(name: string): Promise<boolean> {
    return (await this.require(name)).populated;
  }

  async markPopulated(name: string): Promise<void> {
    const meta = await this.require(name);
    await atomicWriteFile(path.join(this.root, name, 'volume.json'), JSON.stringify({ ...meta, populated: true }), 0o600);
  }

  /** `docker volume ls` with its filters (name, dangling, label, driver). */
  async list(filters: VolumeFilters = new Map()): Promise<Volume[]> {
    const match = volumeFilter(filters, (name) => this.usersOf(name).length > 0);
    const out: Volume[] = [];
    for (const name of (await fs.readdir(this.root)).sort()) {
      const meta = await this.meta(name);
      if (meta && match(meta.Name, meta.Labels ?? {})) out.push(this.shape(meta));
    }
    return out;
  }

  /** `docker volume rm [-f]`: refused while a container (running or not) uses it, even with force. */
  remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.lock.run('volumes', async () => {
      const meta = await this.meta(name);
      if (!meta) {
        if (opts.force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.usersOf(name);
      if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      await fs.rm(path.join(this.root, name), { recursive: true, force: true });
    });
  }

  /** `docker volume prune` (API 1.41: every unused volume, named or not). */
  async prune(filters: VolumeFilters = new Map()): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of await this.list(filters)) {
      if (this.usersOf(v.Name).length > 0) continue;
      const size = await dirSize(v.Mountpoint);
      try {
        await this.remove(v.Name);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        // Taken into use since it was listed: not prunable any more.
        if ((err as { code?: string }).code === 'CONFLICT') continue;
        throw err;
      }
      deleted.push(v.Name);
      reclaimed += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Every volume with `UsageData` (reference count, bytes of data), for `docker system df`. */
  async usage(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const v of await this.list()) out.push({ ...v, UsageData: { RefCount: this.usersOf(v.Name).length, Size: await dirSize(v.Mountpoint) } });
    return out;
  }

  private async meta(name: string): Promise<VolumeMeta | undefined> {
    if (!NAME.test(name)) return undefined;
    return readJsonIfExists<VolumeMeta>(path.join(this.root, name, 'volume.json'));
  }

  private async require(name: string): Promise<VolumeMeta> {
    const meta = await this.meta(name);
    if (!meta) throw notFound(`get ${name}: no such volume`);
    return meta;
  }

  private shape(meta: VolumeMeta): Volume {
    return { CreatedAt: meta.CreatedAt, Driver: 'local', Labels: meta.Labels, Mountpoint: this.mountpoint(meta.Name), Name: meta.Name, Options: meta.Options, Scope: 'local' };
  }
}

/** Go's time.RFC3339 in UTC, as dockerd formats a volume's CreatedAt. */
function goTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Bytes of regular-file content under a volume's data dir. Containers write there while this runs, so the
 * walk goes through descriptors only and never follows a link (root-fd.ts): a directory swapped for a link
 * to the host is seen as the link it is.
 */
export async function dirSize(dir: string): Promise<number> {
  let rootfs: RootFs;
  try {
    rootfs = await RootFs.open(dir);
  } catch {
    return 0;
  }
  try {
    return await sizeUnder(rootfs, rootfs.root);
  } finally {
    await rootfs.close();
  }
}

async function sizeUnder(rootfs: RootFs, dir: Node): Promise<number> {
  let total = 0;
  for (const name of await rootfs.list(dir).catch(() => [] as string[])) {
    const node = await rootfs.child(dir, name).catch(() => undefined);
    if (!node) continue;
    try {
      if (node.stat.isFile()) total += node.stat.size;
      // Deeper than any walk may go: what lies below is not counted (sizes are informative only).
      else if (node.stat.isDirectory() && node.path.split('/').length <= MAX_DEPTH) total += await sizeUnder(rootfs, node);
    } finally {
      await release(node);
    }
  }
  return total;
}
