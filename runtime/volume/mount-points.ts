import path from 'node:path';
import { forbidden, invalid } from '../errors.ts';
import type { BindRules } from '../container/bind-source.ts';
import { checkBind, type ApiMount } from '../container/mounts.ts';
import type { ContainerRecord, HostConfig, MountPoint } from '../container/types.ts';
import { checkVolumeName } from './store.ts';

/** One requested mount before volumes exist: a host bind (checked) or a volume (named or anonymous). */
export type MountRequest =
  | { kind: 'bind'; source: string; destination: string; rw: boolean; mode: string }
  | { kind: 'volume'; name?: string; destination: string; rw: boolean; mode: string };

/**
 * Every mount a create request asks for, as dockerd's registerMountPoints orders them: the image's VOLUMEs
 * and `-v /path` (Config.Volumes) first as anonymous volumes, then `Binds`, then `--mount`; a later request
 * for the same destination replaces an earlier one, but two Binds/Mounts for one destination are an error.
 */
export function mountRequests(host: HostConfig, configVolumes: readonly string[], imageVolumes: readonly string[], bindRules: BindRules): MountRequest[] {
  const byDest = new Map<string, MountRequest>();
  for (const dest of [...imageVolumes, ...configVolumes]) {
    const destination = checkDestination(dest);
    byDest.set(destination, { kind: 'volume', destination, rw: true, mode: '' });
  }
  const explicit = new Set<string>();
  const add = (m: MountRequest) => {
    if (explicit.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    explicit.add(m.destination);
    byDest.set(m.destination, m);
  };
  for (const spec of host.Binds ?? []) add(fromBind(spec, bindRules));
  for (const m of (host.Mounts as ApiMount[] | null | undefined) ?? []) add(fromApiMount(m, bindRules));
  return [...byDest.values()];
}

function fromBind(spec: string, bindRules: BindRules): MountRequest {
  const [source = '', dest = '', mode = ''] = spec.split(':');
  const destination = checkDestination(dest);
  const rw = !mode.split(',').includes('ro');
  if (path.isAbsolute(source)) {
    const checked = checkBind({ source, destination, readOnly: !rw }, bindRules, { create: true });
    return { kind: 'bind', source: checked.source, destination, rw, mode };
  }
  checkVolumeName(source);
  return { kind: 'volume', name: source, destination, rw, mode: mode || 'z' };
}

function fromApiMount(m: ApiMount, bindRules: BindRules): MountRequest {
  const destination = checkDestination(m.Target ?? '');
  const rw = m.ReadOnly !== true;
  if (m.Type === 'bind') {
    const checked = checkBind({ source: m.Source ?? '', destination, readOnly: !rw }, bindRules);
    return { kind: 'bind', source: checked.source, destination, rw, mode: '' };
  }
  if (m.Type !== 'volume') throw forbidden(`--mount type=${m.Type ?? ''} is not supported in layerlab: use type=bind or type=volume`);
  if (m.Source) checkVolumeName(m.Source);
  return { kind: 'volume', ...(m.Source ? { name: m.Source } : {}), destination, rw, mode: '' };
}

/** A mount destination: absolute, and never the root or the kernel filesystems the runtime mounts. */
function checkDestination(dest: string): string {
  if (!path.posix.isAbsolute(dest)) throw invalid(`invalid mount config: mount path must be absolute: '${dest}'`);
  const clean = path.posix.normalize(dest).replace(/\/+$/, '') || '/';
  if (clean === '/' || ['/proc', '/sys', '/dev'].some((p) => clean === p || clean.startsWith(`${p}/`))) {
    throw forbidden(`mounting onto ${clean} is not allowed in layerlab`);
  }
  return clean;
}

/** Docker's `Mounts` of inspect and `docker ps` (§9.1 shape) for a container record. */
export function mountsJson(record: Pick<ContainerRecord, 'MountPoints'>): MountPoint[] {
  return (record.MountPoints ?? []).map((m) =>
    m.Type === 'bind'
      ? { Type: 'bind', Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
      : { Type: 'volume', Name: m.Name!, Source: m.Source, Destination: m.Destination, Driver: 'local', Mode: m.Mode, RW: m.RW, Propagation: '' },
  );
}

/** The volume names a container record references. */
export function volumeNames(record: Pick<ContainerRecord, 'MountPoints'>): string[] {
  return (record.MountPoints ?? []).flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : []));
}
