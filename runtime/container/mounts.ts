import path from 'node:path';
import { forbidden, invalid } from '../errors.ts';
import { checkBindSource, type BindRules } from './bind-source.ts';
import type { BindMount } from './types.ts';

/** An OCI `mounts[]` entry. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** Docker's default /dev/shm size (HostConfig.ShmSize when unset). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The kernel filesystems every container gets, with Docker's options. */
export function defaultMounts(shmSize: number): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    // Read-only, and runc shows only the container's own cgroups: no release_agent to write (CVE-2022-0492).
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

/** /proc and /sys paths hidden from containers (Docker's list plus the powercap energy counters). */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** /proc paths containers may read but not write (Docker's list). */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Device cgroup rules: deny everything, then allow the standard character devices and pseudo-terminals, and
 * mknod (not read/write) of any device, as Docker does. runc creates the device nodes themselves.
 */
export function deviceRules(): Array<{ allow: boolean; type?: string; major?: number; minor?: number; access: string }> {
  const allowChar = (major: number, minor: number | undefined) => ({ allow: true, type: 'c', major, ...(minor === undefined ? {} : { minor }), access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    allowChar(1, 3), // null
    allowChar(1, 5), // zero
    allowChar(1, 7), // full
    allowChar(1, 8), // random
    allowChar(1, 9), // urandom
    allowChar(5, 0), // tty
    allowChar(5, 1), // console
    allowChar(5, 2), // ptmx
    allowChar(136, undefined), // pts/*
  ];
}

/**
 * The host bind mounts among Docker's `Binds` strings (`/host:/ctr[:ro|rw]`). Named volumes (`name:/ctr`) are
 * the volume service's business and are skipped here; their names are checked there.
 */
export function parseBinds(binds: readonly string[]): BindMount[] {
  return binds.flatMap((spec) => {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3) throw invalid(`invalid volume specification: '${spec}'`);
    const [source = '', destination = '', mode = 'rw'] = parts;
    if (!path.isAbsolute(destination)) throw invalid(`invalid volume specification: '${spec}': mount path must be absolute`);
    const flags = mode.split(',');
    if (flags.some((f) => !['ro', 'rw', 'z', 'Z', 'nocopy'].includes(f))) throw invalid(`invalid mode: ${mode}`);
    if (!path.isAbsolute(source)) return [];
    return [{ source, destination: path.posix.normalize(destination), readOnly: flags.includes('ro') }];
  });
}

/** One `--mount` entry of HostConfig.Mounts, as the API carries it. */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
}

/** The host bind mounts among `--mount` entries; volumes are the volume service's, other types are refused. */
export function parseApiMounts(mounts: readonly ApiMount[]): BindMount[] {
  return mounts.flatMap((m) => {
    if (m.Type !== 'bind' && m.Type !== 'volume') throw forbidden(`--mount type=${m.Type ?? ''} is not supported in layerlab: use type=bind or type=volume`);
    if (!m.Target || !path.isAbsolute(m.Target)) throw invalid(`invalid mount config for type "${m.Type}": invalid mount path: '${m.Target ?? ''}' mount path must be absolute`);
    if (m.Type !== 'bind') return [];
    if (!m.Source) throw invalid('invalid mount config for type "bind": field Source must not be empty');
    return [{ source: m.Source, destination: path.posix.normalize(m.Target), readOnly: m.ReadOnly === true }];
  });
}

/**
 * Check a bind mount against the rules (bind-source.ts): the source must lie under an allowed root or the
 * workspace, with no `..` and no symbolic link on the way; the destination may not cover the kernel
 * filesystems or the whole root. The source stays as the learner named it (cleaned): it is opened again,
 * and held, when the container starts.
 */
export function checkBind(bind: BindMount, rules: BindRules, opts: { create?: boolean } = {}): BindMount {
  const source = checkBindSource(bind.source, rules, opts);
  const dest = bind.destination;
  if (dest === '/' || ['/proc', '/sys', '/dev'].some((p) => dest === p || dest.startsWith(`${p}/`))) {
    throw forbidden(`bind mount onto ${dest} is not allowed in layerlab`);
  }
  return { ...bind, source };
}

/** OCI mount entries for checked binds: private propagation, never dev or suid from the host. */
export function bindMounts(binds: readonly BindMount[]): OciMount[] {
  return binds.map((b) => ({
    destination: b.destination,
    type: 'bind',
    source: b.source,
    options: ['rbind', 'rprivate', 'nosuid', 'nodev', b.readOnly ? 'ro' : 'rw'],
  }));
}
