import { bindMounts, defaultMounts, deviceRules, MASKED_PATHS, READONLY_PATHS, type OciMount } from './mounts.ts';
import type { Resources } from './policy.ts';
import { defaultSeccompProfile } from './seccomp.ts';
import type { BindMount } from './types.ts';
import type { ExecUser } from './user.ts';
import type { OciHook } from './start-gate.ts';

/** Everything the OCI config of one container run depends on, already checked and resolved. */
export interface SpecInput {
  rootfs: string;
  readonlyRootfs: boolean;
  hostname: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ExecUser;
  tty: boolean;
  capabilities: string[];
  noNewPrivileges: boolean;
  resources: Resources;
  binds: BindMount[];
  shmSize: number;
  cgroupsPath: string;
  /** A network namespace prepared by the networking layer; without it the container gets a new, empty one. */
  netnsPath?: string;
  /** Files the runtime writes and bind-mounts over the init layer's placeholders. */
  files: { hosts: string; hostname: string; resolvConf: string };
  /** Hooks runc runs once the namespaces and mounts are made, before the process starts (start-gate.ts). */
  createRuntimeHooks?: OciHook[];
}

/** The `process` object of a container's init or of an exec. */
export function processSpec(input: Pick<SpecInput, 'args' | 'env' | 'cwd' | 'user' | 'tty' | 'capabilities' | 'noNewPrivileges'>) {
  return {
    terminal: input.tty,
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}) },
    args: input.args,
    env: input.env,
    cwd: input.cwd,
    // No inheritable or ambient set (CVE-2022-24769): file capabilities cannot regain what was dropped.
    capabilities: { bounding: input.capabilities, effective: input.capabilities, permitted: input.capabilities },
    noNewPrivileges: input.noNewPrivileges,
    oomScoreAdj: 0,
  };
}

function fileMounts(files: SpecInput['files']): OciMount[] {
  const bind = (destination: string, source: string): OciMount => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
  return [bind('/etc/resolv.conf', files.resolvConf), bind('/etc/hostname', files.hostname), bind('/etc/hosts', files.hosts)];
}

function resources(r: Resources) {
  return {
    devices: deviceRules(),
    memory: { limit: r.memory, swap: r.memorySwap },
    pids: { limit: r.pids },
    cpu: {
      ...(r.cpuShares ? { shares: r.cpuShares } : {}),
      ...(r.cpuQuota ? { quota: r.cpuQuota, period: r.cpuPeriod } : {}),
    },
  };
}

/**
 * The OCI runtime config (config.json) for one container, shaped like the one dockerd generates: private
 * mount, pid, uts, ipc and network namespaces (cgroup namespace shared, as Docker on a cgroup v1 host),
 * Docker's default capabilities, seccomp profile, masked and read-only paths and devices. Pure: the same
 * input always gives the same config.
 */
export function buildSpec(input: SpecInput) {
  return {
    ociVersion: '1.0.2-dev',
    process: processSpec(input),
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts: [...defaultMounts(input.shmSize), ...bindMounts(input.binds), ...fileMounts(input.files)],
    linux: {
      resources: resources(input.resources),
      cgroupsPath: input.cgroupsPath,
      namespaces: [
        { type: 'mount' },
        { type: 'network', ...(input.netnsPath ? { path: input.netnsPath } : {}) },
        { type: 'uts' },
        { type: 'pid' },
        { type: 'ipc' },
      ],
      seccomp: defaultSeccompProfile(),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
    ...(input.createRuntimeHooks?.length ? { hooks: { createRuntime: input.createRuntimeHooks } } : {}),
  };
}

export type OciSpec = ReturnType<typeof buildSpec>;
