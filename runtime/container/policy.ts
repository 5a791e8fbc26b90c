import { forbidden, invalid } from '../errors.ts';
import { effectiveCapabilities } from './caps.ts';
import type { BindRules } from './bind-source.ts';
import { checkBind, parseApiMounts, parseBinds, type ApiMount } from './mounts.ts';
import type { BindMount, HostConfig, RuntimeLimits } from './types.ts';

/** What a create request is allowed to turn into, after every refusal has been checked. */
export interface CheckedHost {
  capabilities: string[];
  binds: BindMount[];
  resources: Resources;
  noNewPrivileges: boolean;
}

export interface Resources {
  memory: number;
  memorySwap: number;
  pids: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
}

const SHARED_MODES: Array<[keyof HostConfig, string]> = [
  ['PidMode', '--pid'],
  ['IpcMode', '--ipc'],
  ['UTSMode', '--uts'],
  ['NetworkMode', '--network'],
  ['UsernsMode', '--userns'],
];

function nonEmpty<T>(value: readonly T[] | null | undefined): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** Refuse everything that would let a container reach the host: Docker's flags for escapes, plainly named. */
function refuseEscapes(h: HostConfig): void {
  if (h.Privileged) throw forbidden('--privileged is not allowed in layerlab: containers run with Docker\'s default privileges only');
  for (const [key, flag] of SHARED_MODES) {
    const mode = String(h[key] ?? '');
    if (mode === 'host') throw forbidden(`${flag}=host is not allowed in layerlab: containers cannot share the host's namespaces`);
    if (mode.startsWith('container:') && key !== 'NetworkMode') throw forbidden(`${flag}=${mode} is not supported in layerlab`);
  }
  if (nonEmpty(h.Devices) || nonEmpty(h.DeviceCgroupRules) || nonEmpty(h.DeviceRequests)) {
    throw forbidden('--device is not allowed in layerlab: containers get the standard devices only');
  }
  if (h.CgroupParent) throw forbidden('--cgroup-parent is not allowed in layerlab: the engine places every container');
  if (h.Sysctls && Object.keys(h.Sysctls).length > 0) throw forbidden('--sysctl is not allowed in layerlab');
  if (h.OomKillDisable) throw forbidden('--oom-kill-disable is not allowed in layerlab');
  if (nonEmpty(h.MaskedPaths) || nonEmpty(h.ReadonlyPaths)) throw forbidden('changing masked or read-only paths is not allowed in layerlab');
  for (const opt of h.SecurityOpt ?? []) {
    if (!/^no-new-privileges(?:[:=]true)?$/.test(opt)) throw forbidden(`--security-opt ${opt} is not allowed in layerlab`);
  }
}

/** Requested limits, or the engine's defaults; a request above a ceiling is refused, not silently cut. */
export function resolveResources(h: HostConfig, limits: RuntimeLimits): Resources {
  const memory = h.Memory && h.Memory > 0 ? h.Memory : limits.defaultMemory;
  if (memory < 6 * 1024 * 1024) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > limits.maxMemory) throw forbidden(`--memory ${memory} exceeds this sandbox's limit of ${limits.maxMemory} bytes`);
  // No swap on top of memory: MemorySwap is memory+swap in Docker, so equal values mean none.
  const memorySwap = memory;
  const pids = h.PidsLimit && h.PidsLimit > 0 ? h.PidsLimit : limits.defaultPids;
  if (pids > limits.maxPids) throw forbidden(`--pids-limit ${pids} exceeds this sandbox's limit of ${limits.maxPids}`);
  const out: Resources = { memory, memorySwap, pids };
  if (h.CpuShares && h.CpuShares > 0) out.cpuShares = Math.max(2, h.CpuShares);
  const nanoCpus = h.NanoCpus && h.NanoCpus > 0 ? h.NanoCpus : limits.defaultNanoCpus;
  if (nanoCpus > 0 && (h.CpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nanoCpus > 0) {
    out.cpuPeriod = 100_000;
    out.cpuQuota = Math.max(1000, Math.round((nanoCpus * out.cpuPeriod) / 1e9));
  } else if ((h.CpuQuota ?? 0) > 0) {
    out.cpuPeriod = h.CpuPeriod && h.CpuPeriod > 0 ? h.CpuPeriod : 100_000;
    out.cpuQuota = h.CpuQuota!;
  }
  return out;
}

/**
 * Check a HostConfig against layerlab's policy (SECURITY.md): refusals are EngineError FORBIDDEN with a
 * message naming the flag; the result is what the OCI spec may contain.
 */
export function checkHostConfig(h: HostConfig, limits: RuntimeLimits, bindRules: BindRules): CheckedHost {
  refuseEscapes(h);
  const capabilities = effectiveCapabilities(h.CapAdd ?? [], h.CapDrop ?? []);
  // `-v` creates a missing source directory as dockerd does; `--mount type=bind` requires it to exist.
  const binds = [
    ...parseBinds(h.Binds ?? []).map((b) => checkBind(b, bindRules, { create: true })),
    ...parseApiMounts((h.Mounts as ApiMount[] | null | undefined) ?? []).map((b) => checkBind(b, bindRules)),
  ];
  const noNewPrivileges = (h.SecurityOpt ?? []).some((o) => o.startsWith('no-new-privileges'));
  return { capabilities, binds, resources: resolveResources(h, limits), noNewPrivileges };
}

/** WORKDIR and `exec -w` may not point into /proc (CVE-2024-21626 used /proc/self/fd/N). */
export function refuseProcWorkdir(dir: string): void {
  const clean = dir.replace(/\/+/g, '/');
  if (clean === '/proc' || clean.startsWith('/proc/')) throw forbidden(`working directory ${dir} is not allowed in layerlab: it is inside /proc`);
}
