import type { ContainerConfig } from '../image/config.ts';
import type { Digest } from '../util/digest.ts';

/** A bind mount as `-v /host:/ctr[:ro]` produces it, already parsed. */
export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/**
 * The subset of Docker's HostConfig that the runtime acts on, with Docker's field names so the API layer
 * can pass the request body through and inspect can return it. Fields the runtime refuses are listed too,
 * so that a request asking for them fails loudly instead of being ignored.
 */
export interface HostConfig {
  Binds?: string[] | null;
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  PidsLimit?: number | null;
  ShmSize?: number;
  AutoRemove?: boolean;
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  NetworkMode?: string;
  UsernsMode?: string;
  CgroupParent?: string;
  Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: unknown[] | null;
  SecurityOpt?: string[] | null;
  Sysctls?: Record<string, string> | null;
  GroupAdd?: string[] | null;
  ReadonlyRootfs?: boolean;
  OomKillDisable?: boolean;
  ExtraHosts?: string[] | null;
  Dns?: string[] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  [key: string]: unknown;
}

/** What `POST /containers/create` carries once the API layer has parsed it and looked up the image. */
export interface CreateOptions {
  /** `?name=`; a random Docker-style name when absent. */
  name?: string;
  /** The image's ID (the API layer resolves the reference). */
  image: Digest;
  config: ContainerConfig;
  hostConfig?: HostConfig;
}

/** Docker's State object (container inspect), as stored. */
export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** A mount as inspect's `Mounts` shows it (engine-api-facts §9.1), decided at create and kept on the record. */
export interface MountPoint {
  Type: 'bind' | 'volume';
  /** Volume name (volumes only). */
  Name?: string;
  /** Host path: the bind's source or the volume's data dir. */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** The persistent description of one container (what `config.v2.json` is to dockerd). */
export interface ContainerRecord {
  Id: string;
  Created: string;
  /** With Docker's leading slash. */
  Name: string;
  Path: string;
  Args: string[];
  /** Image ID. */
  Image: Digest;
  /** Merged with the image's defaults and the daemon's, as inspect shows it. */
  Config: ContainerConfig & { Hostname: string; Image: string };
  HostConfig: HostConfig;
  RestartCount: number;
  /** Set by `docker stop`/`kill`, cleared by `docker start` (dockerd's field): restart policies respect it. */
  HasBeenManuallyStopped?: boolean;
  /** cgroup path given to runc, relative to each controller's root. */
  CgroupPath: string;
  /** Volumes and bind mounts (absent on records made before volumes existed). */
  MountPoints?: MountPoint[];
}

/** Engine-wide resource policy: defaults applied to every container, and ceilings requests may not pass. */
export interface RuntimeLimits {
  /** Memory limit (bytes) when the request sets none; requests may not ask for more than maxMemory. */
  defaultMemory: number;
  maxMemory: number;
  /** pids.max when the request sets none (so a fork bomb meets EAGAIN); requests may not pass maxPids. */
  defaultPids: number;
  maxPids: number;
  /** CPU ceiling in nano-CPUs applied when the request sets none (0 = no ceiling). */
  defaultNanoCpus: number;
  /** Containers (any state) one runtime may hold. */
  maxContainers: number;
  /** Size of the filesystem that holds every writable layer of this runtime. */
  diskQuotaBytes: number;
  /** Reserve the writable area's blocks on the host up front (fallocate); false: a sparse image (overcommit). */
  diskPreallocate: boolean;
  /** Memory (bytes), pids and CPU (nano-CPUs) for everything this runtime runs together; 0 = no shared limit. */
  sharedMemory: number;
  sharedPids: number;
  sharedNanoCpus: number;
  /** json-file log bytes stored per container; output past it is dropped (attached clients still see it). */
  logMaxBytes: number;
}

export const DEFAULT_LIMITS: RuntimeLimits = {
  defaultMemory: 512 * 1024 * 1024,
  maxMemory: 2 * 1024 * 1024 * 1024,
  defaultPids: 512,
  maxPids: 4096,
  defaultNanoCpus: 0,
  maxContainers: 200,
  diskQuotaBytes: 4 * 1024 * 1024 * 1024,
  diskPreallocate: true,
  sharedMemory: 0,
  sharedPids: 0,
  sharedNanoCpus: 0,
  logMaxBytes: 16 * 1024 * 1024,
};

/** `docker wait --condition`. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}
