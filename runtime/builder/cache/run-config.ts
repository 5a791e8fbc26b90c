import type { ContainerConfig } from '../../image/config.ts';
import { goContainerConfig } from '../../image/go-shapes.ts';
import { sha256 } from '../../util/digest.ts';

/**
 * A container config laid out like Docker's Go struct (field order and which empty fields are present), so
 * image configs read like Docker's. Missing values become Docker's zero values.
 */
export function normalizeRunConfig(c: ContainerConfig): ContainerConfig {
  return goContainerConfig(c) as ContainerConfig;
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
