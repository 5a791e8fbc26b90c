import type { Digest } from '../util/digest.ts';

/**
 * The Docker/OCI image config. Field order of `config` follows Docker's Go struct so that serialised
 * configs look like Docker's; the image ID is the sha256 of the exact bytes we store.
 */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  author?: string;
  config?: ContainerConfig;
  container?: string;
  container_config?: ContainerConfig;
  created?: string;
  docker_version?: string;
  history?: HistoryEntry[];
  os: string;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  variant?: string;
}

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Serialise like Docker 20.10: top-level keys sorted, nested config in struct order (as given),
 * `<`, `>` and `&` escaped as \u003c etc. Callers build objects in struct order.
 */
export function serializeConfig(config: ImageConfig): string {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (value !== undefined) sorted[key] = value;
  }
  return goJson(sorted);
}

/** JSON.stringify with Go's HTML-safe escaping, which Docker's encoder applies. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parse and check the fields the engine relies on; a malformed config is an invalid image. */
export function parseConfig(bytes: Buffer | string): ImageConfig {
  const value = JSON.parse(bytes.toString()) as Partial<ImageConfig>;
  if (typeof value !== 'object' || value === null) throw new TypeError('image config is not a JSON object');
  if (!value.rootfs || value.rootfs.type !== 'layers' || !Array.isArray(value.rootfs.diff_ids)) {
    throw new TypeError('image config has no rootfs.diff_ids');
  }
  for (const d of value.rootfs.diff_ids) {
    if (typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d)) throw new TypeError(`image config has an invalid diff_id: ${String(d).slice(0, 80)}`);
  }
  if (value.history !== undefined && !Array.isArray(value.history)) throw new TypeError('image config history is not a list');
  const layerHistory = (value.history ?? []).filter((h) => !h.empty_layer).length;
  if (value.history && value.history.length > 0 && layerHistory !== value.rootfs.diff_ids.length) {
    throw new TypeError('image config history does not match its layers');
  }
  return { architecture: 'amd64', os: 'linux', ...value } as ImageConfig;
}
