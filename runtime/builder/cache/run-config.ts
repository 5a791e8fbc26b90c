import type { ContainerConfig } from '../../image/config.ts';
import { sha256 } from '../../util/digest.ts';

/**
 * A container config laid out like Docker's Go struct (field order and which empty fields are present), so
 * image configs read like Docker's. Missing values become Docker's zero values.
 */
export function normalizeRunConfig(c: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = sortedKeys(c.ExposedPorts);
  Object.assign(out, { Tty: c.Tty ?? false, OpenStdin: c.OpenStdin ?? false, StdinOnce: c.StdinOnce ?? false, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, { Image: c.Image ?? '', Volumes: c.Volumes ? sortedKeys(c.Volumes) : null, WorkingDir: c.WorkingDir ?? '', Entrypoint: c.Entrypoint ?? null, OnBuild: c.OnBuild ?? null, Labels: c.Labels ? sortedKeys(c.Labels) : null });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return out;
}

/** A deep copy, so that one step's changes never leak into a config another step holds. */
export function copyRunConfig(c: ContainerConfig): ContainerConfig {
  return structuredClone(c);
}

/**
 * The cache key of a probe config: the fields Docker's cache compares (image/cache/compare.go): Cmd,
 * Env (ordered), Labels, ExposedPorts and Volumes (as sets), Entrypoint, User, Tty, attach flags. Other
 * fields (WorkingDir, Healthcheck, Shell, …) are told apart by each instruction's own Cmd text.
 */
export function probeKey(c: ContainerConfig): string {
  const fields = {
    User: c.User ?? '',
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
    Tty: c.Tty ?? false,
    Cmd: c.Cmd ?? [],
    Env: c.Env ?? [],
    Labels: Object.entries(c.Labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ExposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    Entrypoint: c.Entrypoint ?? [],
    Volumes: Object.keys(c.Volumes ?? {}).sort(),
  };
  return sha256(JSON.stringify(fields));
}

function sortedKeys<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!;
  return out;
}

/** Docker's default shell for shell-form commands on Linux. */
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export function shellOf(c: ContainerConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? [...c.Shell] : [...DEFAULT_SHELL];
}

/** Probe Cmd of a metadata instruction: `[shell…, "#(nop) ", TEXT]` (two spaces once joined). */
export function nopCmd(c: ContainerConfig, text: string): string[] {
  return [...shellOf(c), '#(nop) ', text];
}

/** Probe Cmd of WORKDIR/COPY/ADD: `[shell…, "#(nop) TEXT"]`. */
export function nopCmdString(c: ContainerConfig, text: string): string[] {
  return [...shellOf(c), `#(nop) ${text}`];
}
