import { conflict } from '../errors.ts';
import type { BindRules } from './bind-source.ts';
import type { Store } from '../store/store.ts';
import { cleanWorkdir, entrypointAndArgs, mergeConfig } from './command.ts';
import { DEFAULT_SHM_SIZE } from './mounts.ts';
import { nowMicros, rfc3339Nano } from './json-log.ts';
import { checkName, newContainerId, randomName } from './names.ts';
import { checkHostConfig, refuseProcWorkdir } from './policy.ts';
import { checkRestartPolicy } from './restart-policy.ts';
import type { ContainerRecord, CreateOptions, RuntimeLimits } from './types.ts';

export interface CreateContext {
  limits: RuntimeLimits;
  bindRules: BindRules;
  cgroupParent: string;
  /** The ID of the container holding this name (with its slash), if any. */
  nameOwner: (name: string) => string | undefined;
}

/**
 * Turn a create request into a container record, as dockerd does: policy first (refusals fail create, not
 * start), then the image's config merged in, the daemon's defaults filled (hostname = short ID, json-file
 * logging, 64 MiB /dev/shm), Path and Args computed.
 */
export async function createContainerRecord(store: Store, opts: CreateOptions, ctx: CreateContext): Promise<ContainerRecord> {
  const hostConfig = { ...(opts.hostConfig ?? {}) };
  checkHostConfig(hostConfig, ctx.limits, ctx.bindRules);
  checkRestartPolicy(hostConfig);
  const name = opts.name ? checkName(opts.name) : randomName((n) => ctx.nameOwner(n) !== undefined);
  const owner = ctx.nameOwner(name);
  if (owner) throw conflict(nameConflict(name, owner));
  const image = await store.imageConfig(opts.image);
  const config = mergeConfig(opts.config, image.config ?? {});
  const workdir = config.WorkingDir ? cleanWorkdir(config.WorkingDir) : '';
  if (workdir) refuseProcWorkdir(workdir);
  const { path, args } = entrypointAndArgs(config);
  const id = newContainerId();
  hostConfig.LogConfig = hostConfig.LogConfig?.Type ? hostConfig.LogConfig : { Type: 'json-file', Config: {} };
  hostConfig.ShmSize = hostConfig.ShmSize || DEFAULT_SHM_SIZE;
  return {
    Id: id,
    Created: rfc3339Nano(nowMicros()),
    Name: name,
    Path: path,
    Args: args,
    Image: opts.image,
    Config: { ...config, Hostname: config.Hostname || id.slice(0, 12), Image: config.Image || opts.image, WorkingDir: workdir },
    HostConfig: hostConfig,
    RestartCount: 0,
    CgroupPath: `${ctx.cgroupParent}/${id}`,
  };
}

/** dockerd's text for a name in use. */
export function nameConflict(name: string, id: string): string {
  return `Conflict. The container name "${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
}
