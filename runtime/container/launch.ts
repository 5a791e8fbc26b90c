import { promises as fs, watch } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.ts';
import { holdBindSources, type BindRules, type HeldSources } from './bind-source.ts';
import { cleanWorkdir, processEnv } from './command.ts';
import { checkHostConfig, refuseProcWorkdir, type CheckedHost } from './policy.ts';
import { lastRuncError, type Runc, type RuncProcess } from './runc.ts';
import { mkdirInRoot, resolveInRoot } from './rootfs-path.ts';
import { buildSpec } from './spec.ts';
import { DEFAULT_SHM_SIZE } from './mounts.ts';
import type { BindMount, ContainerRecord, RuntimeLimits } from './types.ts';
import { gateHook, holdGate } from './start-gate.ts';
import { resolveUserInRoot, type ExecUser } from './user.ts';

/** What a run needs from the runtime around it. */
export interface LaunchContext {
  runc: Runc;
  limits: RuntimeLimits;
  bindRules: BindRules;
  bundleDir: string;
  runcLog: string;
  rootfs: string;
  files: { hosts: string; hostname: string; resolvConf: string };
  /** Volume data dirs to bind (already resolved by the volume service, not subject to the bind roots). */
  volumeBinds?: readonly BindMount[];
  netnsPath?: string;
  /**
   * Hold the container at its start gate (start-gate.ts; the FIFO exists) until the work `opener` begins,
   * once runc runs, resolves.
   */
  gate?: { fifo: string; opener: () => Promise<void> };
}

/**
 * Write the OCI bundle for the next run of a container whose rootfs is mounted: the policy is checked again
 * (allowed roots may have changed since create), the user is resolved from the container's own passwd and
 * group files, a missing working directory is created owned by that user, as Docker does. The learner's bind
 * sources are pinned on staging mounts (bind-source.ts): the caller releases them once runc has started.
 */
export async function writeBundle(record: ContainerRecord, ctx: LaunchContext): Promise<HeldSources> {
  const config = record.Config;
  const host = checkHostConfig(record.HostConfig, ctx.limits, ctx.bindRules);
  const cwd = cleanWorkdir(config.WorkingDir);
  refuseProcWorkdir(cwd);
  // A symlinked working directory is judged by where it leads inside the container, too.
  refuseProcWorkdir(`/${path.relative(ctx.rootfs, await resolveInRoot(ctx.rootfs, cwd))}`);
  const user = await resolveUserInRoot(ctx.rootfs, config.User ?? '', record.HostConfig.GroupAdd ?? []);
  await mkdirInRoot(ctx.rootfs, cwd, user.uid, user.gid);
  const held = await holdBindSources(host.binds.map((b) => b.source), ctx.bindRules, path.join(ctx.bundleDir, 'binds'));
  try {
    await writeSpec(record, ctx, { ...host, binds: host.binds.map((b, i) => ({ ...b, source: held.sources[i]! })) }, cwd, user);
  } catch (err) {
    await held.release();
    throw err;
  }
  return held;
}

async function writeSpec(record: ContainerRecord, ctx: LaunchContext, host: CheckedHost, cwd: string, user: ExecUser): Promise<void> {
  const config = record.Config;
  const spec = buildSpec({
    rootfs: ctx.rootfs,
    readonlyRootfs: record.HostConfig.ReadonlyRootfs === true,
    hostname: config.Hostname,
    args: [record.Path, ...record.Args],
    env: processEnv(config, config.Hostname, config.Tty === true),
    cwd,
    user,
    tty: config.Tty === true,
    capabilities: host.capabilities,
    noNewPrivileges: host.noNewPrivileges,
    resources: host.resources,
    // Parents before children (`/data` before `/data/sub`), as dockerd sorts mounts.
    binds: [...host.binds, ...(ctx.volumeBinds ?? [])].sort((a, b) => depth(a.destination) - depth(b.destination)),
    shmSize: record.HostConfig.ShmSize || DEFAULT_SHM_SIZE,
    cgroupsPath: record.CgroupPath,
    ...(ctx.netnsPath ? { netnsPath: ctx.netnsPath } : {}),
    ...(ctx.gate ? { createRuntimeHooks: [gateHook(ctx.gate.fifo)] } : {}),
    files: ctx.files,
  });
  await fs.mkdir(ctx.bundleDir, { recursive: true, mode: 0o700 });
  // A plain write: runc reads it at once, and every start writes it again (nothing to keep across a crash).
  await fs.writeFile(path.join(ctx.bundleDir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/** How the container's stdio is set up: TTY (with its size) or pipes, stdin or none. */
export interface LaunchOptions {
  tty: boolean;
  stdin: boolean;
  cols?: number;
  rows?: number;
}

export interface Launched {
  proc: RuncProcess;
  pid: number;
}

/**
 * Start `runc run` and wait until the container process runs (runc writes the pid file only after the
 * process has been started) or runc gives up. A failure becomes Docker's start error, with runc's logged
 * message and the exit code dockerd would record (127 command not found, 126 not executable). With a gate,
 * the process starts only once it opens; the gate is given up when this returns.
 */
export async function launch(id: string, ctx: LaunchContext, opts: LaunchOptions): Promise<Launched> {
  const pidFile = path.join(ctx.bundleDir, 'pid');
  await fs.rm(pidFile, { force: true });
  await fs.rm(ctx.runcLog, { force: true });
  const gate = ctx.gate ? await holdGate(ctx.gate.fifo) : undefined;
  try {
    const proc = await ctx.runc.spawn(['run', '--bundle', ctx.bundleDir, '--pid-file', pidFile, id], { ...opts, logFile: ctx.runcLog });
    // Begun only now: its work then overlaps runc's.
    if (gate && ctx.gate) gate.openWhen(ctx.gate.opener());
    return await untilStarted(proc, ctx, pidFile);
  } finally {
    await gate?.close();
  }
}

async function untilStarted(proc: RuncProcess, ctx: LaunchContext, pidFile: string): Promise<Launched> {
  let exited = false;
  let wake: () => void = () => undefined;
  void proc.exited.then(() => {
    exited = true;
    wake();
  });
  // runc renames the pid file into place: a watch on the bundle dir wakes the loop then. Each read costs the
  // engine's thread, so other changes there are ignored and the poll is only a slow fallback.
  const name = path.basename(pidFile);
  const watcher = watch(ctx.bundleDir, (_event, changed) => {
    if (changed === null || changed === name) wake();
  }).on('error', () => undefined);
  try {
    for (;;) {
      const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) return { proc, pid };
      if (exited) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  } finally {
    watcher.close();
  }
  proc.stdout.resume();
  proc.stderr?.resume();
  const { code } = await proc.exited;
  throw startError((await lastRuncError(ctx.runcLog)) ?? `runc exited with status ${code} before the container started`);
}

/** dockerd's translateContainerdStartErr: the message shape and the exit code a failed start leaves. */
export class StartError extends EngineError {
  constructor(
    message: string,
    readonly exitCode: number,
    invalidConfig: boolean,
  ) {
    super(invalidConfig ? 'INVALID' : 'INTERNAL', message);
  }
}

function startError(runcMessage: string): StartError {
  const detail = runcMessage.replace(/^runc run failed: /, 'runc create failed: ');
  // dockerd words it through containerd's shim; learners see (and search for) exactly this text.
  const message = `failed to create shim task: OCI runtime create failed: ${detail}: unknown`;
  const lower = runcMessage.toLowerCase();
  if (lower.includes('executable file not found') || lower.includes('no such file or directory')) return new StartError(message, 127, true);
  if (lower.includes('permission denied')) return new StartError(message, 126, true);
  if (lower.includes('not a directory')) {
    return new StartError(`${message}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`, 127, true);
  }
  return new StartError(message, 128, false);
}
