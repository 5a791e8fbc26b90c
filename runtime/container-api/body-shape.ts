import { invalid } from '../errors.ts';

/**
 * Type checks for the JSON bodies of create and exec, which come from the learner: every field the engine
 * reads must have the type Go's decoder would insist on, so that no later code meets a number where it
 * expects a string. The messages follow Go's `json: cannot unmarshal …` wording.
 */
type Kind = 'string' | 'bool' | 'number' | 'strings' | 'stringMap' | 'object' | 'strslice' | 'list';

const GO_TYPE: Record<Kind, string> = {
  string: 'string',
  bool: 'bool',
  number: 'int64',
  strings: '[]string',
  stringMap: 'map[string]string',
  object: 'struct',
  strslice: 'strslice.StrSlice',
  list: '[]struct',
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

function fits(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'strings':
      return Array.isArray(v) && v.every((s) => typeof s === 'string');
    case 'strslice':
      return typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
    case 'stringMap':
      return typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((s) => typeof s === 'string');
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
    case 'list':
      return Array.isArray(v) && v.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e));
  }
}

/** Check the listed fields of `body` (null and absent always pass, as Go leaves the zero value). */
export function checkShape(body: Record<string, unknown>, struct: string, fields: Record<string, Kind>): void {
  for (const [name, kind] of Object.entries(fields)) {
    const v = body[name];
    if (v === undefined || v === null || fits(kind, v)) continue;
    throw invalid(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${name} of type ${GO_TYPE[kind]}`);
  }
}

/** Docker's StrSlice: a JSON string stands for a one-element list. */
export function strSlice(v: unknown): string[] | null | undefined {
  return typeof v === 'string' ? [v] : (v as string[] | null | undefined);
}

export const CONFIG_FIELDS: Record<string, Kind> = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: 'object',
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: 'strings',
  Cmd: 'strslice',
  Healthcheck: 'object',
  Image: 'string',
  Volumes: 'object',
  WorkingDir: 'string',
  Entrypoint: 'strslice',
  OnBuild: 'strings',
  Labels: 'stringMap',
  StopSignal: 'string',
  Shell: 'strslice',
};

export const HOST_CONFIG_FIELDS: Record<string, Kind> = {
  Binds: 'strings',
  LogConfig: 'object',
  NetworkMode: 'string',
  PortBindings: 'object',
  RestartPolicy: 'object',
  AutoRemove: 'bool',
  VolumesFrom: 'strings',
  CapAdd: 'strings',
  CapDrop: 'strings',
  Dns: 'strings',
  DnsOptions: 'strings',
  DnsSearch: 'strings',
  ExtraHosts: 'strings',
  GroupAdd: 'strings',
  IpcMode: 'string',
  Links: 'strings',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool',
  SecurityOpt: 'strings',
  UTSMode: 'string',
  UsernsMode: 'string',
  ShmSize: 'number',
  Sysctls: 'stringMap',
  CpuShares: 'number',
  Memory: 'number',
  NanoCpus: 'number',
  CgroupParent: 'string',
  CpuPeriod: 'number',
  CpuQuota: 'number',
  MemorySwap: 'number',
  MemorySwappiness: 'number',
  OomKillDisable: 'bool',
  PidsLimit: 'number',
  Mounts: 'list',
  MaskedPaths: 'strings',
  ReadonlyPaths: 'strings',
};

export const EXEC_FIELDS: Record<string, Kind> = {
  User: 'string',
  Privileged: 'bool',
  Tty: 'bool',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  Detach: 'bool',
  DetachKeys: 'string',
  Env: 'strings',
  WorkingDir: 'string',
  Cmd: 'strslice',
};
