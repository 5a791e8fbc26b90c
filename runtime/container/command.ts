import path from 'node:path';
import { invalid } from '../errors.ts';
import { DEFAULT_PATH_ENV, type ContainerConfig } from '../image/config.ts';

/**
 * dockerd's merge of a create request's Config with the image's (daemon/commit.go `merge`): request Env
 * first, then image Env entries whose key the request does not set; Cmd and Entrypoint from the image only
 * when the request gives no Entrypoint; WorkingDir, User, StopSignal, Labels, ExposedPorts inherited.
 */
export function mergeConfig(user: ContainerConfig, image: ContainerConfig = {}): ContainerConfig {
  const merged: ContainerConfig = { ...user };
  merged.Env = mergeEnv(user.Env ?? [], image.Env ?? []);
  const entrypointGiven = (user.Entrypoint?.length ?? 0) > 0;
  if (!entrypointGiven) {
    if (!user.Cmd || user.Cmd.length === 0) merged.Cmd = image.Cmd ?? null;
    if (user.Entrypoint == null) merged.Entrypoint = image.Entrypoint ?? null;
  }
  // `--entrypoint ""` means: no entrypoint at all, not the image's.
  if (merged.Entrypoint?.length === 1 && merged.Entrypoint[0] === '') merged.Entrypoint = null;
  merged.WorkingDir = user.WorkingDir || image.WorkingDir || '';
  merged.User = user.User || image.User || '';
  if (!merged.StopSignal && image.StopSignal) merged.StopSignal = image.StopSignal;
  if (image.Labels) merged.Labels = { ...image.Labels, ...(user.Labels ?? {}) };
  if (image.ExposedPorts) merged.ExposedPorts = { ...image.ExposedPorts, ...(user.ExposedPorts ?? {}) };
  if (!merged.Healthcheck && image.Healthcheck) merged.Healthcheck = image.Healthcheck;
  return merged;
}

function envKey(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

function mergeEnv(user: readonly string[], image: readonly string[]): string[] {
  if (user.length === 0) return [...image];
  const keys = new Set(user.map(envKey));
  return [...user, ...image.filter((e) => !keys.has(envKey(e)))];
}

/**
 * The process environment (container.CreateDaemonEnvironment + ReplaceOrAppendEnvValues): PATH and HOSTNAME
 * first (TERM=xterm with a TTY), then Config.Env replacing same-key entries in place; an entry without `=`
 * unsets its key.
 */
export function processEnv(config: ContainerConfig, hostname: string, tty: boolean): string[] {
  const env = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`];
  if (tty) env.push('TERM=xterm');
  return replaceOrAppendEnv(env, config.Env ?? []);
}

/** Docker's ReplaceOrAppendEnvValues. */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: Array<string | null> = [...defaults];
  const index = new Map(out.map((e, i) => [envKey(e!), i]));
  for (const value of overrides) {
    const key = envKey(value);
    const at = index.get(key);
    if (!value.includes('=')) {
      if (at !== undefined) out[at] = null;
      continue;
    }
    if (at !== undefined && out[at] !== null) out[at] = value;
    else {
      index.set(key, out.length);
      out.push(value);
    }
  }
  return out.filter((e): e is string => e !== null);
}

/** Path and Args as dockerd stores them (getEntrypointAndArgs); no command at all is a create error. */
export function entrypointAndArgs(config: ContainerConfig): { path: string; args: string[] } {
  const entrypoint = config.Entrypoint ?? [];
  const cmd = config.Cmd ?? [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw invalid('No command specified');
  return { path: argv[0]!, args: argv.slice(1) };
}

/** Docker requires an absolute working directory and stores it cleaned. */
export function cleanWorkdir(dir: string | undefined): string {
  if (!dir) return '/';
  if (!dir.startsWith('/')) throw invalid(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  return path.posix.normalize(dir);
}
