import { MASKED_PATHS, READONLY_PATHS } from '../container/mounts.ts';
import type { HostConfig } from '../container/types.ts';

/** HostConfig as dockerd 20.10 shows an unset one in inspect, in its Go field order (cgroup v1 host). */
function defaults(): Record<string, unknown> {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'default',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: 'host',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'runc',
    ConsoleSize: [0, 0],
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: MASKED_PATHS,
    ReadonlyPaths: READONLY_PATHS,
  };
}

const EMPTY_MEANS_DEFAULT = ['NetworkMode', 'IpcMode', 'CgroupnsMode', 'Runtime', 'ShmSize', 'MaskedPaths', 'ReadonlyPaths'];

/**
 * The HostConfig of container inspect: the request's values over the daemon's defaults, with dockerd's
 * fix-ups (§6.4): PidsLimit 0 and MemorySwappiness -1 shown as null, MemorySwap twice Memory when only
 * Memory is set, an empty mode shown as the mode the daemon picked.
 */
export function hostConfigJson(h: HostConfig): Record<string, unknown> {
  const out = defaults();
  for (const [key, value] of Object.entries(h)) {
    if (value === undefined) continue;
    const empty = value === '' || value === 0 || value === null || (Array.isArray(value) && value.length === 0);
    if (EMPTY_MEANS_DEFAULT.includes(key) && empty) continue;
    out[key] = value;
  }
  if (!h.LogConfig?.Type) out.LogConfig = { Type: 'json-file', Config: {} };
  if (!h.PidsLimit || h.PidsLimit <= 0) out.PidsLimit = null;
  if (h.MemorySwappiness === -1) out.MemorySwappiness = null;
  if ((h.Memory ?? 0) > 0 && !h.MemorySwap) out.MemorySwap = 2 * h.Memory!;
  return out;
}
