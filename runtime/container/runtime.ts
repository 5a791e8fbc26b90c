import { promises as fs } from 'node:fs';
import path from 'node:path';
import { conflict, EngineError, forbidden, notFound } from '../errors.ts';
import { KeyedMutex } from '../util/locks.ts';
import { cgroupParent, limitCgroupParent, removeCgroup, removeEmptyCgroup } from './cgroups.ts';
import { ContainerStore, initialState } from './container-store.ts';
import { startExec, type ExecOptions, type ExecProcess } from './exec.ts';
import { defaultResolvConf, writeEtcFiles } from './files.ts';
import { RunIo, type AttachHandle, type AttachStreams } from './io.ts';
import { JsonLogWriter, nowMicros, rfc3339Nano } from './json-log.ts';
import { launch, writeBundle, StartError, type LaunchContext } from './launch.ts';
import { kernelClockMicros, OomLog } from './oom.ts';
import { createContainerRecord, nameConflict } from './create.ts';
import { checkName } from './names.ts';
import { WritableArea } from './quota.ts';
import { interruptedState, reapLeftovers, removeOrphanLayers } from './recovery.ts';
import { createWritableLayer, ensureInitLayer, mountRootfs, removeWritableLayer, unmountRootfs, type RootfsPaths } from './rootfs.ts';
import { Runc, type RuncProcess } from './runc.ts';
import { GateFifos, gatePath } from './start-gate.ts';
import { nextDelay, policyOf, restartsWithEngine, shouldRestart } from './restart-policy.ts';
import { parseSignal } from './signals.ts';
import { DEFAULT_LIMITS, type ContainerRecord, type ContainerState, type CreateOptions, type RuntimeLimits, type WaitCondition, type WaitResult } from './types.ts';
import type { ContainerPaths, RootfsView, RuntimeOptions } from './runtime-hooks.ts';
import { Live, type Run } from './live.ts';
import { allDone, settlesWithin } from '../util/settle.ts';
import type { BindRules } from './bind-source.ts';
import { reapSystemLeftovers, startSystemContainer, type SystemContainer, type SystemContainerOptions, type SystemContext } from './system-container.ts';

/** The runtime's options and hooks live beside it; importers of this file keep finding them here. */
export type { ContainerEventSink, ContainerPaths, NetworkHooks, RootfsView, RuntimeOptions, VolumeHooks } from './runtime-hooks.ts';

/**
 * The container runtime of one engine: containers as OCI bundles run by runc over overlayfs, with Docker's
 * lifecycle (create, start, stop, kill, wait, remove, pause, exec, attach). Core only: no HTTP types.
 */
export class ContainerRuntime {
  private readonly live = new Map<string, Live>();
  /** Hidden containers the engine runs for itself (a sandbox's shell): never in `live`, so never listed or found. */
  private readonly system = new Set<SystemContainer>();
  private readonly mutex = new KeyedMutex();
  private readonly store: ContainerStore;
  private readonly runc: Runc;
  readonly limits: RuntimeLimits;
  private readonly cgroupParent: string;
  private readonly oom: OomLog;
  private readonly gates: GateFifos;
  /** Removals under way (remove()). */
  private readonly removals = new Set<Promise<void>>();
  /** Stop keeping the containers' images alive in the store: the engine's state is being deleted (after close). */
  releaseRoots: () => void = () => undefined;
  /** Set by close(): containers killed on the way out are not restarted by their policies. */
  private closing = false;

  private constructor(
    private readonly opts: RuntimeOptions,
    private readonly area: WritableArea,
    private readonly initLayer: string,
    private readonly resolvConf: string,
  ) {
    this.store = new ContainerStore(path.join(opts.stateDir, 'containers'));
    this.runc = new Runc(opts.runcBinary ?? 'runc', path.join(opts.stateDir, 'runc'));
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.cgroupParent = cgroupParent(opts.stateDir);
    this.oom = new OomLog(this.cgroupParent);
    this.gates = new GateFifos(path.join(opts.stateDir, 'gates'));
  }

  /** Open the runtime: clean up after a previous engine process, then load the container records. */
  static async open(opts: RuntimeOptions): Promise<ContainerRuntime> {
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    await fs.mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
    const area = await WritableArea.open(opts.stateDir, limits.diskQuotaBytes, { preallocate: limits.diskPreallocate });
    const initLayer = await ensureInitLayer(path.join(opts.stateDir, 'init-layer'));
    const rt = new ContainerRuntime(opts, area, initLayer, opts.resolvConf ?? (await defaultResolvConf()));
    await rt.store.init();
    await rt.gates.reset();
    await reapLeftovers(rt.runc, rt.store.root, rt.cgroupParent, rt.engineLog);
    await reapSystemLeftovers(rt.systemContext);
    await limitCgroupParent(rt.cgroupParent, { memoryBytes: limits.sharedMemory, pids: limits.sharedPids, nanoCpus: limits.sharedNanoCpus });
    rt.oom.prime();
    const now = rfc3339Nano(nowMicros());
    for (const { record, state } of await rt.store.load()) {
      const fixed = interruptedState(state, now);
      if (fixed !== state) await rt.store.saveState(record.Id, fixed);
      await opts.network?.teardownContainer(record.Id).catch(() => undefined);
      const c = new Live(record, fixed);
      rt.live.set(record.Id, c);
      if (restartsWithEngine(policyOf(record.HostConfig), record.HasBeenManuallyStopped === true, fixed !== state)) rt.scheduleRestart(c, 0);
    }
    await removeOrphanLayers(area.dir, new Set(rt.live.keys()));
    // A container keeps its image (and so its layers) alive until it is removed.
    rt.releaseRoots = opts.store.addRootProvider(() => ({ images: [...rt.live.values()].map((c) => c.record.Image) }));
    return rt;
  }

  /** Where bind sources may come from: the allowed roots and the workspace. */
  get bindRules(): BindRules {
    return { roots: this.opts.allowedBindRoots ?? [], ...(this.opts.workspace ? { workspace: this.opts.workspace } : {}) };
  }

  private get engineLog(): string {
    return path.join(this.opts.stateDir, 'runc.log');
  }

  /** Docker's lookup: full ID, then name, then unique ID prefix. */
  private find(idOrName: string): Live {
    const direct = this.live.get(idOrName);
    if (direct) return direct;
    const name = idOrName.startsWith('/') ? idOrName : `/${idOrName}`;
    for (const c of this.live.values()) if (c.record.Name === name) return c;
    const matches = idOrName.length > 0 && /^[0-9a-f]+$/.test(idOrName) ? [...this.live.values()].filter((c) => c.record.Id.startsWith(idOrName)) : [];
    if (matches.length > 1) throw new EngineError('INVALID', `Multiple IDs found with provided prefix: ${idOrName}`);
    if (matches.length === 0) throw notFound(`No such container: ${idOrName}`);
    return matches[0]!;
  }

  /** A snapshot of one container: its record and state (copies; changing them changes nothing). */
  inspect(idOrName: string): { record: ContainerRecord; state: ContainerState; paths: ContainerPaths } {
    const c = this.find(idOrName);
    return { record: structuredClone(c.record), state: { ...c.state }, paths: this.pathsOf(c.record.Id) };
  }

  list(): Array<{ record: ContainerRecord; state: ContainerState }> {
    return [...this.live.values()].map((c) => ({ record: structuredClone(c.record), state: { ...c.state } }));
  }

  private rootfsPaths(id: string): RootfsPaths {
    const layerDir = path.join(this.area.dir, id);
    return { layerDir, upper: path.join(layerDir, 'upper'), work: path.join(layerDir, 'work'), merged: path.join(this.store.dir(id), 'rootfs') };
  }

  pathsOf(id: string): ContainerPaths {
    const r = this.rootfsPaths(id);
    return {
      dir: this.store.dir(id),
      logPath: this.store.logPath(id),
      hostsPath: this.store.hostsPath(id),
      hostnamePath: this.store.hostnamePath(id),
      resolvConfPath: this.store.resolvConfPath(id),
      upperDir: r.upper,
      workDir: r.work,
      mergedDir: r.merged,
    };
  }

  /** `docker create`: check the request against policy, merge it with the image, make the writable layer. */
  async create(opts: CreateOptions): Promise<{ Id: string; Warnings: string[] }> {
    if (this.live.size >= this.limits.maxContainers) {
      throw forbidden(`container quota reached: this sandbox may hold ${this.limits.maxContainers} containers; remove some with docker rm`);
    }
    const nameOwner = (name: string) => [...this.live.values()].find((c) => c.record.Name === name)?.record.Id;
    const record = await this.opts.store.gcLock.shared(async () => {
      const made = await createContainerRecord(this.opts.store, opts, { limits: this.limits, bindRules: this.bindRules, cgroupParent: this.cgroupParent, nameOwner });
      // Extract the image's layers now, so start does not wait for it (and a broken layer fails create).
      const top = await this.opts.store.topLayer(made.Image);
      if (top) await this.opts.store.layers.lowerDirs(top);
      if (this.opts.volumes) made.MountPoints = await this.opts.volumes.prepare(made);
      return made;
    });
    // Checked again: another create may have taken the name while this one waited for the image.
    const owner = nameOwner(record.Name);
    const paths = this.rootfsPaths(record.Id);
    try {
      if (owner) throw conflict(nameConflict(record.Name, owner));
      await this.store.create(record);
      await createWritableLayer(paths);
    } catch (err) {
      await removeWritableLayer(paths).catch(() => undefined);
      await this.store.remove(record.Id).catch(() => undefined);
      // The anonymous volumes made for this container go with it; named ones stay, as with dockerd.
      await this.opts.volumes?.release(record, true).catch(() => undefined);
      throw err;
    }
    this.live.set(record.Id, new Live(record, initialState()));
    this.opts.events?.('create', record);
    return { Id: record.Id, Warnings: [] };
  }

  /** `docker start`: mount, write the bundle, run; resolves once the container's process runs. */
  start(idOrName: string, opts: { cols?: number; rows?: number } = {}): Promise<void> {
    const c = this.find(idOrName);
    return this.mutex.run(c.record.Id, async () => {
      if (c.removed) throw notFound(`No such container: ${idOrName}`);
      if (c.state.Paused) throw conflict(`cannot start a paused container, try unpause instead`);
      if (c.run) throw new EngineError('NOT_MODIFIED', 'Container already started');
      this.cancelRestart(c);
      if (c.record.HasBeenManuallyStopped) await this.saveRecord(c, { HasBeenManuallyStopped: false });
      await this.startLocked(c, opts);
    });
  }

  private async startLocked(c: Live, opts: { cols?: number; rows?: number }): Promise<void> {
    const { record } = c;
    const id = record.Id;
    const rootfs = this.rootfsPaths(id);
    const files = { hosts: this.store.hostsPath(id), hostname: this.store.hostnamePath(id), resolvConf: this.store.resolvConfPath(id) };
    const startedMicros = kernelClockMicros();
    const tty = record.Config.Tty === true;
    let proc: RuncProcess;
    let pid: number;
    let connected: Promise<void> | undefined;
    try {
      const top = await this.opts.store.topLayer(record.Image);
      await writeEtcFiles(files, record.Config.Hostname, this.resolvConf);
      const filesystem = async () => {
        await mountRootfs(top ? await this.opts.store.layers.lowerDirs(top) : [], this.initLayer, rootfs);
        return (await this.opts.volumes?.beforeStart(record, rootfs.merged)) ?? [];
      };
      const gate = this.opts.network ? gatePath(this.store.bundleDir(id)) : undefined;
      const network = this.opts.network?.setupContainer(id, { name: record.Name.slice(1), hostname: record.Config.Hostname, hostsPath: files.hosts, extraHosts: record.HostConfig.ExtraHosts ?? [] });
      // The network's part needs nothing of the mount's: the two run side by side.
      const [volumeBinds, netns] = await allDone([filesystem(), network, gate && this.gates.ensure(gate)]);
      const ctx: LaunchContext = {
        runc: this.runc,
        limits: this.limits,
        bindRules: this.bindRules,
        bundleDir: this.store.bundleDir(id),
        runcLog: this.store.runcLog(id),
        rootfs: rootfs.merged,
        files,
        volumeBinds,
        ...(netns ? { netnsPath: netns.netnsPath } : {}),
        // runc's own setup and the network's connection run side by side; the process waits for both.
        ...(gate && netns ? { gate: { fifo: gate, opener: () => (connected = netns.connect()) } } : {}),
      };
      const held = await writeBundle(record, ctx);
      // runc has mounted the held sources once the container runs (or has given up): they can go then.
      ({ proc, pid } = await launch(id, ctx, { tty, stdin: record.Config.OpenStdin === true, ...opts }).finally(() => held.release()));
    } catch (caught) {
      // A failed connection shut the gate and so failed runc too: the network's error is the one to report.
      const err = (await connected?.then(() => undefined, (netErr: unknown) => netErr)) ?? caught;
      await this.cleanupRun(c);
      const exitCode = err instanceof StartError ? err.exitCode : 128;
      await this.setState(c, { ...c.state, Status: 'exited', Running: false, ExitCode: exitCode, Error: (err as Error).message, FinishedAt: rfc3339Nano(nowMicros()) });
      c.nextIo?.end();
      c.nextIo = undefined;
      c.notifyExit();
      throw err;
    }
    const io = c.nextIo ?? new RunIo(tty, record.Config.OpenStdin === true, record.Config.StdinOnce === true);
    c.nextIo = undefined;
    const log = await JsonLogWriter.open(this.store.logPath(id), this.limits.logMaxBytes);
    const drained = io.connect(proc, log);
    const now = rfc3339Nano(nowMicros());
    await this.setState(c, { ...c.state, Status: 'running', Running: true, Paused: false, OOMKilled: false, Dead: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: now, FinishedAt: '0001-01-01T00:00:00Z' });
    const run: Run = { proc, io, finished: Promise.resolve() };
    run.finished = proc.exited.then(async ({ code }) => {
      await drained;
      await this.onExit(c, code, startedMicros);
    });
    c.run = run;
    this.opts.events?.('start', record);
  }

  /** The container's process ended: record how, release everything the run held, tell the waiters. */
  private async onExit(c: Live, code: number, startedMicros: number): Promise<void> {
    const oomKilled = await this.oom.killedSince(c.record.CgroupPath, startedMicros - 500_000);
    const exited: ContainerState = { ...c.state, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: code, OOMKilled: oomKilled, FinishedAt: rfc3339Nano(nowMicros()) };
    if (c.record.HostConfig.AutoRemove) {
      // Removed at once, its run's cleanup with it (remove() takes the lock in this same tick, before any start).
      // Not saved as exited first: its record is about to go, and a crash in between shows it interrupted.
      this.showExited(c, exited);
      await this.remove(c.record.Id, { force: true, removeVolumes: true }).catch(() => undefined);
      return;
    }
    // The record on disk may say exited while the cleanup runs (a restart would say so anyway); the engine
    // itself shows it only once the run is cleaned up, so a start never meets a half-released run.
    await allDone([this.cleanupRun(c), c.removed ? undefined : this.store.saveState(c.record.Id, exited)]);
    this.showExited(c, exited);
    if (!this.closing && shouldRestart(policyOf(c.record.HostConfig), code, c.record.RestartCount, c.record.HasBeenManuallyStopped === true)) {
      this.scheduleRestart(c, Date.parse(c.state.FinishedAt) - Date.parse(c.state.StartedAt));
    }
  }

  /** The run is over for everyone: state, the `die` event, the waiters. */
  private showExited(c: Live, exited: ContainerState): void {
    c.run = undefined;
    c.state = exited;
    this.opts.events?.('die', c.record, { exitCode: String(exited.ExitCode) });
    c.notifyExit();
  }

  /** Start a container again after its policy's backoff; it shows as `restarting` meanwhile. */
  private scheduleRestart(c: Live, ranMs: number): void {
    c.restartDelayMs = nextDelay(c.restartDelayMs, ranMs);
    c.state = { ...c.state, Status: 'restarting', Restarting: true };
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void this.mutex
        .run(c.record.Id, async () => {
          if (c.removed || c.run || !c.state.Restarting) return;
          await this.saveRecord(c, { RestartCount: c.record.RestartCount + 1 });
          await this.startLocked(c, {});
        })
        .catch(() => undefined); // a failed restart is recorded as the container's exit by startLocked
    }, c.restartDelayMs);
  }

  private cancelRestart(c: Live): void {
    if (c.restartTimer) clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    if (c.state.Restarting) c.state = { ...c.state, Status: 'exited', Restarting: false };
  }

  private async saveRecord(c: Live, change: Partial<ContainerRecord>): Promise<void> {
    c.record = { ...c.record, ...change };
    if (!c.removed) await this.store.saveRecord(c.record);
  }

  /** Undo a run: runc's state (if runc did not get to it), the mount, the cgroups, the network namespace. */
  private async cleanupRun(c: Live): Promise<void> {
    // The network's part is independent of the rest: both run side by side, and both are always finished.
    await allDone([this.releaseLocal(c), this.opts.network?.teardownContainer(c.record.Id)]);
  }

  /** cleanupRun's part on this host: runc's state, the rootfs mount, the cgroups. */
  private async releaseLocal(c: Live): Promise<void> {
    const id = c.record.Id;
    // A foreground `runc run` deletes its container as it ends: usually there is nothing left to delete.
    if (await this.runc.has(id)) await this.runc.call(['delete', '--force', id], this.store.runcLog(id)).catch(() => undefined);
    await Promise.all([unmountRootfs(this.rootfsPaths(id)), removeCgroup(c.record.CgroupPath)]);
  }

  private async setState(c: Live, state: ContainerState): Promise<void> {
    c.state = state;
    if (!c.removed) await this.store.saveState(c.record.Id, state);
  }

  /** `docker kill`: signal the container's init (SIGKILL by default). */
  async kill(idOrName: string, signal: string | number = 'SIGKILL'): Promise<void> {
    const c = this.find(idOrName);
    const sig = parseSignal(signal);
    if (!c.run) throw conflict(`Container ${c.record.Id} is not running`);
    if (c.state.Paused) throw conflict(`Container ${c.record.Id} is paused. Unpause the container before stopping or killing`);
    await this.saveRecord(c, { HasBeenManuallyStopped: true });
    await this.signal(c, sig.name);
    this.opts.events?.('kill', c.record, { signal: String(sig.number) });
  }

  private async signal(c: Live, name: string): Promise<void> {
    try {
      await this.runc.call(['kill', c.record.Id, name], this.store.runcLog(c.record.Id));
    } catch (err) {
      // It may have exited between the check and the signal; anything else is a real failure.
      if (c.run && !/not running|does not exist|process already finished/.test((err as Error).message)) throw err;
    }
  }

  /** `docker stop`: the stop signal, then SIGKILL after `timeoutSeconds` (10 by default; -1 waits forever). */
  async stop(idOrName: string, opts: { signal?: string; timeoutSeconds?: number } = {}): Promise<void> {
    const c = this.find(idOrName);
    const run = c.run;
    if (c.state.Restarting || run) await this.saveRecord(c, { HasBeenManuallyStopped: true });
    if (!run && c.state.Restarting) {
      this.cancelRestart(c);
      await this.setState(c, c.state);
      this.opts.events?.('stop', c.record);
      return;
    }
    if (!run) throw new EngineError('NOT_MODIFIED', 'Container already stopped');
    if (c.state.Paused) await this.unpause(c.record.Id);
    await this.signal(c, parseSignal(opts.signal ?? c.record.Config.StopSignal ?? 'SIGTERM').name);
    const timeout = opts.timeoutSeconds ?? 10;
    if (timeout >= 0 && !(await settlesWithin(run.finished, timeout * 1000))) await this.signal(c, 'SIGKILL');
    await run.finished;
    this.opts.events?.('stop', c.record);
  }

  /** `docker wait`: the exit status for a condition (`not-running` returns at once for a stopped container). */
  wait(idOrName: string, condition: WaitCondition = 'not-running'): Promise<WaitResult> {
    const c = this.find(idOrName);
    const result = (): WaitResult => ({ StatusCode: c.state.ExitCode, Error: c.state.Error ? { Message: c.state.Error } : null });
    // dockerd clears the state's error when removal succeeds, so `removed` waiters never see a start error.
    if (condition === 'removed') return c.whenRemoved().then(() => ({ StatusCode: c.state.ExitCode, Error: null }));
    if (condition === 'not-running' && !c.run) return Promise.resolve(result());
    return c.whenExited().then(result);
  }

  /** `docker rm`: refuses a running container unless forced; removes mounts, writable layer, record (`removeVolumes`: `-v`). */
  async remove(idOrName: string, opts: { force?: boolean; removeVolumes?: boolean } = {}): Promise<void> {
    const c = this.find(idOrName);
    if (c.run && !opts.force) {
      throw conflict(`You cannot remove a ${c.state.Paused ? 'paused' : 'running'} container ${c.record.Id}. Stop the container before attempting removal or force remove`);
    }
    if (c.run) {
      if (c.state.Paused) await this.runc.call(['resume', c.record.Id], this.store.runcLog(c.record.Id)).catch(() => undefined);
      await this.signal(c, 'SIGKILL');
      await c.run?.finished;
    }
    this.cancelRestart(c);
    const removal = this.mutex.run(c.record.Id, () => this.removeLocked(c, opts.removeVolumes === true));
    // close() waits for it: a removal's unmount may still run after its container's run has ended.
    this.removals.add(removal);
    await removal.finally(() => this.removals.delete(removal));
  }

  /** remove() under the container's lock: what others see goes first, the files after it. */
  private async removeLocked(c: Live, removeVolumes: boolean): Promise<void> {
    if (c.removed) return;
    c.removed = true;
    c.state = { ...c.state, Status: 'removing' };
    const id = c.record.Id;
    const seen = async () => {
      // The commit point: after a crash from here on, the next open finishes the removal (recovery.ts).
      await this.store.forget(id);
      this.live.delete(id);
      await this.opts.network?.teardownContainer(id);
      await this.opts.volumes?.release(c.record, removeVolumes).catch(() => undefined);
      this.opts.events?.('destroy', c.record);
      // `wait --condition=removed` (the CLI's `run --rm`) answers now; remove() itself resolves once all is gone.
      c.notifyRemoved();
    };
    const shown = seen();
    // The files go once the removal is seen, since nothing others see depends on them: unmounting alone can
    // take tens of milliseconds (it flushes the writable area).
    const files = shown.catch(() => undefined).then(() => this.releaseLocal(c)).then(() => removeWritableLayer(this.rootfsPaths(id)));
    await allDone([shown, files]);
    await this.store.remove(id);
  }

  async pause(idOrName: string): Promise<void> {
    const c = this.find(idOrName);
    if (!c.run) throw conflict(`Container ${c.record.Id} is not running`);
    if (c.state.Paused) throw conflict(`Container ${c.record.Id} is already paused`);
    await this.runc.call(['pause', c.record.Id], this.store.runcLog(c.record.Id));
    await this.setState(c, { ...c.state, Status: 'paused', Paused: true });
    this.opts.events?.('pause', c.record);
  }

  async unpause(idOrName: string): Promise<void> {
    const c = this.find(idOrName);
    if (!c.state.Paused) throw conflict(`Container ${c.record.Id} is not paused`);
    await this.runc.call(['resume', c.record.Id], this.store.runcLog(c.record.Id));
    await this.setState(c, { ...c.state, Status: 'running', Paused: false });
    this.opts.events?.('unpause', c.record);
  }

  /** `docker rename`: Docker's name rules and conflict text; the record is rewritten atomically. */
  async rename(idOrName: string, newName: string): Promise<void> {
    const c = this.find(idOrName);
    if (!newName) throw new EngineError('INVALID', 'Neither old nor new names may be empty');
    const name = checkName(newName);
    if (name === c.record.Name) throw new EngineError('INVALID', 'Renaming a container with the same name as its current name');
    const owner = [...this.live.values()].find((o) => o.record.Name === name && o !== c);
    if (owner) throw conflict(nameConflict(name, owner.record.Id));
    await this.store.saveRecord({ ...c.record, Name: name });
    c.record = { ...c.record, Name: name };
  }

  /** Attach streams to the current run, or to the next one if the container is not running yet. */
  attach(idOrName: string, streams: AttachStreams): AttachHandle {
    const c = this.find(idOrName);
    const cfg = c.record.Config;
    const io = c.run?.io ?? (c.nextIo ??= new RunIo(cfg.Tty === true, cfg.OpenStdin === true, cfg.StdinOnce === true));
    return io.attach(streams);
  }

  /** Resize the container's terminal (TTY containers; ignored otherwise). */
  resize(idOrName: string, cols: number, rows: number): void {
    const c = this.find(idOrName);
    if (!c.run) throw conflict(`Container ${c.record.Id} is not running`);
    c.run.proc.resize(cols, rows);
  }

  /** `docker exec`: start a process in the running container. */
  async exec(idOrName: string, opts: ExecOptions): Promise<ExecProcess> {
    const c = this.find(idOrName);
    if (!c.run) throw conflict(`Container ${c.record.Id} is not running`);
    if (c.state.Paused) throw conflict(`Container ${c.record.Id} is paused, unpause the container before exec`);
    return startExec(this.runc, c.record, this.rootfsPaths(c.record.Id).merged, this.store.dir(c.record.Id), opts);
  }

  /** The writable area's mount point (volumes live there too, so they count against the sandbox's quota). */
  get areaDir(): string {
    return this.area.dir;
  }

  /**
   * Run `fn` over the container's filesystem: a running container's overlay is already mounted; a stopped
   * one's is mounted for the call (under the container's lock, so start waits) and unmounted after.
   */
  async withRootfs<T>(idOrName: string, fn: (view: RootfsView) => Promise<T>): Promise<T> {
    const c = this.find(idOrName);
    const paths = this.rootfsPaths(c.record.Id);
    const top = await this.opts.store.topLayer(c.record.Image);
    const imageLowers = top ? await this.opts.store.layers.lowerDirs(top) : [];
    const view = () => ({ record: structuredClone(c.record), state: { ...c.state }, merged: paths.merged, upper: paths.upper, initLayer: this.initLayer, imageLowers });
    if (c.run) return fn(view());
    return this.mutex.run(c.record.Id, async () => {
      if (c.removed) throw notFound(`No such container: ${idOrName}`);
      const mountedHere = !c.run;
      if (mountedHere) await mountRootfs(imageLowers, this.initLayer, paths);
      try {
        return await fn(view());
      } finally {
        if (mountedHere && !c.run) await unmountRootfs(paths);
      }
    });
  }

  /** Host pids of the container's processes (`runc ps`), for `docker top`. */
  async processes(idOrName: string): Promise<number[]> {
    const c = this.find(idOrName);
    if (!c.run) throw conflict(`Container ${c.record.Id} is not running`);
    return JSON.parse(await this.runc.call(['ps', '--format', 'json', c.record.Id], this.store.runcLog(c.record.Id))) as number[];
  }

  private get systemContext(): SystemContext {
    const { opts } = this;
    return { store: opts.store, runc: this.runc, limits: this.limits, dir: path.join(opts.stateDir, 'system'), areaDir: path.join(this.area.dir, 'system'), initLayer: this.initLayer, resolvConf: this.resolvConf, cgroupParent: this.cgroupParent };
  }

  /**
   * Start a hidden system container (system-container.ts): not listed, not found by name or ID, not counted
   * against maxContainers, no events; killed by close(), removed when it ends.
   */
  async startSystem(opts: SystemContainerOptions): Promise<SystemContainer> {
    if (this.closing) throw conflict('the engine is shutting down');
    const sc = await startSystemContainer(this.systemContext, opts);
    this.system.add(sc);
    void sc.exited.then(() => this.system.delete(sc));
    return sc;
  }

  /** Stop every container (SIGKILL) and unmount the writable area: the engine is shutting down. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.system].map((sc) => sc.kill()));
    for (const c of this.live.values()) if (c.restartTimer) clearTimeout(c.restartTimer);
    for (const c of this.live.values()) {
      const run = c.run;
      if (!run) continue;
      if (c.state.Paused) await this.runc.call(['resume', c.record.Id], this.store.runcLog(c.record.Id)).catch(() => undefined);
      await this.signal(c, 'SIGKILL').catch(() => undefined);
      await run.finished;
    }
    await Promise.allSettled([...this.removals]);
    await removeEmptyCgroup(this.cgroupParent);
    await this.oom.close();
    await this.area.close();
  }
}
