import { randomBytes } from 'node:crypto';
import type { ExecOptions, ExecProcess } from '../container/exec.ts';
import type { ContainerRuntime } from '../container/runtime.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import { checkShape, EXEC_FIELDS, strSlice } from './body-shape.ts';

/** The body of `POST /containers/{id}/exec`, as the CLI sends it (engine-api-facts §7.11). */
export interface ExecConfig {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[] | null;
}

/** One exec instance: created, then started once; its exit code is recorded before its stream closes. */
export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  process?: ExecProcess;
  /** Settles when the process has started (or failed to). */
  started: Promise<ExecProcess | undefined>;
  markStarted: (p: ExecProcess | undefined) => void;
}

const MAX_EXECS = 1000;

/** Exec instances of one engine, by ID (`docker exec` creates one, starts it, then reads its exit code). */
export class ExecRegistry {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly runtime: ContainerRuntime) {}

  create(idOrName: string, config: ExecConfig): string {
    const { record, state } = this.runtime.inspect(idOrName);
    if (!state.Running) throw conflict(`Container ${record.Id} is not running`);
    if (state.Paused) throw conflict(`Container ${record.Id} is paused, unpause the container before exec`);
    checkShape(config as Record<string, unknown>, 'ExecConfig', EXEC_FIELDS);
    config = { ...config, Cmd: strSlice(config.Cmd) ?? null };
    if (!config.Cmd || config.Cmd.length === 0) throw invalid('No exec command specified');
    this.forgetOldest();
    const id = randomBytes(32).toString('hex');
    let markStarted!: (p: ExecProcess | undefined) => void;
    const started = new Promise<ExecProcess | undefined>((resolve) => (markStarted = resolve));
    this.execs.set(id, { id, containerId: record.Id, config, running: false, exitCode: null, pid: 0, started, markStarted });
    return id;
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  /** IDs of a container's exec instances (inspect's ExecIDs). */
  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && e.running).map((e) => e.id);
  }

  /**
   * Start the process. Resolves with it once it runs; `exited` on the result settles after the exit code is
   * stored here, so a stream closed after it never lets the CLI read a stale code.
   */
  async start(id: string, tty: boolean): Promise<{ exec: ExecInstance; proc: ExecProcess; exited: Promise<{ exitCode: number; error?: string }> }> {
    const exec = this.get(id);
    if (exec.process || exec.running) throw conflict(`Exec command ${id} is already running`);
    const c = exec.config;
    const opts: ExecOptions = { cmd: c.Cmd ?? [], env: c.Env ?? [], workdir: c.WorkingDir ?? '', user: c.User ?? '', tty, stdin: c.AttachStdin === true, privileged: c.Privileged === true };
    let proc: ExecProcess;
    try {
      proc = await this.runtime.exec(exec.containerId, opts);
    } catch (err) {
      exec.markStarted(undefined);
      throw err;
    }
    exec.process = proc;
    exec.running = true;
    exec.pid = proc.pid;
    exec.markStarted(proc);
    const exited = proc.exited.then((r) => {
      // dockerd 20.10 records 126 for any exec that runc could not start (not found included).
      exec.exitCode = r.error ? 126 : r.exitCode;
      exec.running = false;
      exec.pid = 0;
      return r;
    });
    return { exec, proc, exited };
  }

  /** Resize an exec's terminal; the CLI may ask before the process exists, so wait for it (10 s, as moby). */
  async resize(id: string, cols: number, rows: number): Promise<void> {
    const exec = this.get(id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10_000)));
    const proc = await Promise.race([exec.started, timeout]);
    clearTimeout(timer);
    if (!proc) throw conflict(`Exec ${id} is not running`);
    proc.resize(cols, rows);
  }

  /** Keep the registry bounded: finished execs go first, oldest first. */
  private forgetOldest(): void {
    if (this.execs.size < MAX_EXECS) return;
    for (const [id, e] of this.execs) {
      if (!e.running) {
        this.execs.delete(id);
        if (this.execs.size < MAX_EXECS) return;
      }
    }
  }
}

/** `GET /exec/{id}/json`, in dockerd's shape. */
export function execJson(e: ExecInstance): Record<string, unknown> {
  const [entrypoint = '', ...args] = e.config.Cmd ?? [];
  return {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.config.Tty === true, entrypoint, arguments: args, privileged: e.config.Privileged === true, ...(e.config.User ? { user: e.config.User } : {}) },
    OpenStdin: e.config.AttachStdin === true,
    OpenStderr: e.config.AttachStderr === true,
    OpenStdout: e.config.AttachStdout === true,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: e.config.DetachKeys ?? '',
    Pid: e.pid,
  };
}
