import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Digest } from '../util/digest.ts';
import { DEFAULT_CAPABILITIES } from './caps.ts';
import { removeCgroup } from './cgroups.ts';
import { replaceOrAppendEnv } from './command.ts';
import { DEFAULT_HOSTS, writeEtcFiles } from './files.ts';
import { launch, type LaunchContext } from './launch.ts';
import { unmount, mountsUnder } from './mountinfo.ts';
import { DEFAULT_SHM_SIZE } from './mounts.ts';
import { newContainerId } from './names.ts';
import { mkdirInRoot } from './rootfs-path.ts';
import { createWritableLayer, mountRootfs, removeWritableLayer, type RootfsPaths } from './rootfs.ts';
import type { Runc, RuncProcess } from './runc.ts';
import { buildSpec } from './spec.ts';
import type { BindMount, RuntimeLimits } from './types.ts';
import { resolveUserInRoot } from './user.ts';

/** What the runtime lends a system container: its runc, writable area, init layer and cgroup parent. */
export interface SystemContext {
  store: Store;
  runc: Runc;
  limits: RuntimeLimits;
  /** `<engine state>/system`: bundles, etc files and rootfs mount points of system containers. */
  dir: string;
  /** `<writable area>/system`: their writable layers, on the engine's quota filesystem. */
  areaDir: string;
  initLayer: string;
  resolvConf: string;
  cgroupParent: string;
}

/** A hidden container the engine runs for itself (a sandbox's shell): always a TTY, root, one run only. */
export interface SystemContainerOptions {
  image: Digest;
  cmd: string[];
  env: string[];
  workingDir: string;
  hostname: string;
  /** Trusted host paths chosen by the server, not the learner: not subject to the allowed bind roots. */
  binds: BindMount[];
  /** An existing netns the container joins (a sandbox's host netns) instead of getting its own. */
  netnsPath: string;
  cols: number;
  rows: number;
  memoryBytes?: number;
  pidsLimit?: number;
}

/** A running system container: its terminal, its exit, and a kill that also removes it. */
export interface SystemContainer {
  readonly id: string;
  write(data: string | Buffer): void;
  /** Output from the start (kept until the first subscriber); returns the unsubscribe function. */
  onData(cb: (chunk: Buffer) => void): () => void;
  resize(cols: number, rows: number): void;
  /** The exit status (128+n for signal n), once the container and its layer are gone. */
  readonly exited: Promise<number>;
  kill(): Promise<void>;
}

/**
 * Start a system container: the same OCI spec as a learner's container (Docker's capabilities, seccomp,
 * masked paths, cgroup limits, overlay rootfs on the quota area, node-pty TTY), but joined to a given netns
 * and known only to its caller: no record, no name, no events. It is removed, writable layer included, when
 * its process ends.
 */
export async function startSystemContainer(ctx: SystemContext, opts: SystemContainerOptions): Promise<SystemContainer> {
  const id = newContainerId();
  const dir = path.join(ctx.dir, id);
  const paths: RootfsPaths = { layerDir: path.join(ctx.areaDir, id), upper: path.join(ctx.areaDir, id, 'upper'), work: path.join(ctx.areaDir, id, 'work'), merged: path.join(dir, 'rootfs') };
  const cgroupsPath = `${ctx.cgroupParent}/${id}`;
  const cleanup = async () => {
    await ctx.runc.call(['delete', '--force', id], path.join(dir, 'runc.log')).catch(() => undefined);
    await removeWritableLayer(paths);
    await removeCgroup(cgroupsPath);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await createWritableLayer(paths);
    const top = await ctx.store.topLayer(opts.image);
    await mountRootfs(top ? await ctx.store.layers.lowerDirs(top) : [], ctx.initLayer, paths);
    const files = { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') };
    await fs.writeFile(files.hosts, `${DEFAULT_HOSTS}127.0.1.1\t${opts.hostname}\n`, { mode: 0o644 });
    await writeEtcFiles(files, opts.hostname, ctx.resolvConf);
    const user = await resolveUserInRoot(paths.merged, '');
    await mkdirInRoot(paths.merged, opts.workingDir, user.uid, user.gid);
    const spec = buildSpec({
      rootfs: paths.merged,
      readonlyRootfs: false,
      hostname: opts.hostname,
      args: opts.cmd,
      env: replaceOrAppendEnv(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${opts.hostname}`, 'TERM=xterm'], opts.env),
      cwd: opts.workingDir,
      user,
      tty: true,
      capabilities: [...DEFAULT_CAPABILITIES],
      noNewPrivileges: false,
      resources: { memory: opts.memoryBytes ?? ctx.limits.defaultMemory, memorySwap: opts.memoryBytes ?? ctx.limits.defaultMemory, pids: opts.pidsLimit ?? ctx.limits.defaultPids },
      binds: opts.binds,
      shmSize: DEFAULT_SHM_SIZE,
      cgroupsPath,
      netnsPath: opts.netnsPath,
      files,
    });
    const bundleDir = path.join(dir, 'bundle');
    await fs.mkdir(bundleDir, { mode: 0o700 });
    await fs.writeFile(path.join(bundleDir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    const launchCtx: LaunchContext = { runc: ctx.runc, limits: ctx.limits, bindRules: { roots: [] }, bundleDir, runcLog: path.join(dir, 'runc.log'), rootfs: paths.merged, files };
    const { proc } = await launch(id, launchCtx, { tty: true, stdin: true, cols: opts.cols, rows: opts.rows });
    return handle(id, proc, cleanup, () => ctx.runc.call(['kill', id, 'SIGKILL'], path.join(dir, 'runc.log')));
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err instanceof EngineError ? err : new EngineError('INTERNAL', `cannot start the shell container: ${(err as Error).message}`, { cause: err });
  }
}

/** The caller's view of a launched system container; `cleanup` runs once its process has ended. */
function handle(id: string, proc: RuncProcess, cleanup: () => Promise<void>, sigkill: () => Promise<unknown>): SystemContainer {
  const subscribers = new Set<(chunk: Buffer) => void>();
  const exited = proc.exited.then(async ({ code }) => {
    await cleanup().catch(() => undefined);
    return code;
  });
  return {
    id,
    write: (data) => proc.stdin?.write(data),
    onData(cb) {
      // The first subscriber turns the stream on, so nothing said before it (the first prompt) is lost.
      if (subscribers.size === 0 && proc.stdout.listenerCount('data') === 0) proc.stdout.on('data', (chunk: Buffer) => subscribers.forEach((s) => s(chunk)));
      subscribers.add(cb);
      return () => subscribers.delete(cb);
    },
    resize: (cols, rows) => proc.resize(cols, rows),
    exited,
    async kill() {
      await sigkill().catch(() => undefined);
      await exited;
    },
  };
}

/** Remove what system containers of a previous engine process left (their runc state is reaped with the rest). */
export async function reapSystemLeftovers(ctx: Pick<SystemContext, 'dir' | 'areaDir'>): Promise<void> {
  for (const mount of await mountsUnder(ctx.dir)) await unmount(mount);
  await fs.rm(ctx.dir, { recursive: true, force: true });
  await fs.rm(ctx.areaDir, { recursive: true, force: true });
}
