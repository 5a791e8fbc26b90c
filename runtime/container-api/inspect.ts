import { promises as fs } from 'node:fs';
import path from 'node:path';
import { primaryNetwork } from '../container-network.ts';
import type { ContainerPaths } from '../container/runtime.ts';
import type { ContainerRecord, ContainerState } from '../container/types.ts';
import type { Engine } from '../engine.ts';
import { mountsJson } from '../volume/mount-points.ts';
import { hostConfigJson } from './host-config.ts';

/** Config as inspect shows it: dockerd's field order, its nulls for unset lists, Volumes null when empty. */
export function configJson(record: ContainerRecord): Record<string, unknown> {
  const c = record.Config;
  const out: Record<string, unknown> = {
    Hostname: c.Hostname,
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin === true,
    AttachStdout: c.AttachStdout === true,
    AttachStderr: c.AttachStderr === true,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, { Tty: c.Tty === true, OpenStdin: c.OpenStdin === true, StdinOnce: c.StdinOnce === true, Env: c.Env?.length ? c.Env : null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: c.Image,
    Volumes: c.Volumes && Object.keys(c.Volumes).length > 0 ? c.Volumes : null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? {},
  });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  return out;
}

/** The State object, in dockerd's key order. */
export function stateJson(s: ContainerState): Record<string, unknown> {
  return {
    Status: s.Status,
    Running: s.Running,
    Paused: s.Paused,
    Restarting: s.Restarting,
    OOMKilled: s.OOMKilled,
    Dead: s.Dead,
    Pid: s.Pid,
    ExitCode: s.ExitCode,
    Error: s.Error,
    StartedAt: s.StartedAt,
    FinishedAt: s.FinishedAt,
  };
}

/**
 * NetworkSettings from the network layer: the configured network even when stopped; ports only while the
 * container runs (dockerd shows `Ports: {}` for a created or exited container, exposed ports included).
 */
export function networkSettingsJson(engine: Engine, record: ContainerRecord, running: boolean): Record<string, unknown> {
  const exposedPorts = running ? Object.keys(record.Config.ExposedPorts ?? {}) : [];
  return engine.network.networkSettings(record.Id, { exposedPorts, networks: [primaryNetwork(record)] });
}

/** Bytes of the container's writable layer, and of it plus its image (`?size=1`, `docker ps -s`). */
export async function containerSizes(engine: Engine, record: ContainerRecord, paths: ContainerPaths): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await dirSize(paths.upperDir);
  return { SizeRw: rw, SizeRootFs: rw + (await engine.store.imageSize(record.Image)) };
}

/** Sum of file sizes under a directory (hard links once), without following symlinks. */
async function dirSize(dir: string, seen = new Set<string>()): Promise<number> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      total += await dirSize(p, seen);
      continue;
    }
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) continue;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += st.size;
  }
  return total;
}

/** `GET /containers/{id}/json`: the full ContainerJSON in dockerd's key order (engine-api-facts §9.1). */
export async function inspectContainer(engine: Engine, idOrName: string, opts: { size?: boolean; execIds?: string[] } = {}): Promise<Record<string, unknown>> {
  const { record, state, paths } = engine.containers.inspect(idOrName);
  const out: Record<string, unknown> = {
    Id: record.Id,
    Created: record.Created,
    Path: record.Path,
    Args: record.Args,
    State: stateJson(state),
    Image: record.Image,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: paths.logPath,
    Name: record.Name,
    RestartCount: record.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: opts.execIds?.length ? opts.execIds : null,
    HostConfig: hostConfigJson(record.HostConfig),
    GraphDriver: { Data: { LowerDir: '', MergedDir: paths.mergedDir, UpperDir: paths.upperDir, WorkDir: paths.workDir }, Name: 'overlay2' },
  };
  if (opts.size) Object.assign(out, await containerSizes(engine, record, paths));
  out.Mounts = mountsJson(record);
  out.Config = configJson(record);
  out.NetworkSettings = networkSettingsJson(engine, record, state.Running);
  return out;
}
