import type { Store } from '../store/store.ts';
import type { BindMount, ContainerRecord, ContainerState, MountPoint, RuntimeLimits } from './types.ts';

/** The networking layer's part in a container's life (runtime/network's NetworkManager fits it). */
export interface NetworkHooks {
  /**
   * Before runc starts: create the container's network namespace (may rewrite the hosts file). `connect`
   * (devices, addresses, ports) is called once runc runs, to go on side by side with runc's own setup; it
   * rejects, once torn down, when it failed. The container's process runs only after it resolved.
   */
  setupContainer(id: string, opts: { name: string; hostname: string; hostsPath: string; extraHosts: readonly string[] }): Promise<{ netnsPath: string; connect(): Promise<void> }>;
  /** After the container stopped, and at removal: idempotent. Devices may go after it resolves (the hook orders that). */
  teardownContainer(id: string): Promise<void>;
}

/** The volume service's part in a container's life (runtime/volume fits it). */
export interface VolumeHooks {
  /** At create, after policy: the container's mounts (volumes it names are created, anonymous ones made). */
  prepare(record: ContainerRecord): Promise<MountPoint[]>;
  /** Before runc starts, rootfs mounted: fill fresh volumes from the image; the volume binds to add. */
  beforeStart(record: ContainerRecord, rootfs: string): Promise<BindMount[]>;
  /** After removal: with `removeAnonymous` (`rm -v`, `--rm`), delete the container's anonymous volumes. */
  release(record: ContainerRecord, removeAnonymous: boolean): Promise<void>;
}

/** Where container events go (`docker events`): create, start, die, destroy, pause, unpause, kill, stop. */
export type ContainerEventSink = (action: string, record: ContainerRecord, extra?: Record<string, string>) => void;

/** A container's filesystem as cp, diff, export and commit see it (runtime/container-fs). */
export interface RootfsView {
  record: ContainerRecord;
  state: ContainerState;
  /** The overlay mount (mounted for the duration of the call). */
  merged: string;
  upper: string;
  initLayer: string;
  /** The image's layer dirs, topmost first. */
  imageLowers: string[];
}

export interface RuntimeOptions {
  store: Store;
  /** The engine's state dir: containers/, runc/, rw.img and rw/ (the writable area), init-layer/, gates/. */
  stateDir: string;
  runcBinary?: string;
  limits?: Partial<RuntimeLimits>;
  /** Host directories bind mounts may come from; none by default. */
  allowedBindRoots?: string[];
  /** A sandbox's workspace: binds under `visiblePath` come from `hostPath` (bind-source.ts). */
  workspace?: { hostPath: string; visiblePath: string };
  network?: NetworkHooks;
  volumes?: VolumeHooks;
  events?: ContainerEventSink;
  /** Content of every container's /etc/resolv.conf; by default the host's, filtered as dockerd does. */
  resolvConf?: string;
}

/** Where a container's files are, for inspect (GraphDriver, LogPath, …) and for diff/export later. */
export interface ContainerPaths {
  dir: string;
  logPath: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
  upperDir: string;
  workDir: string;
  mergedDir: string;
}
