import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { createSandboxNetns, Engine, listNetns, removeSandboxNetns, serveEngineApi, type EngineOptions, type Store } from '../../runtime/index.ts';
import { WorkspaceFiles } from '../workspace/files.ts';
import { Sandbox, type EndReason } from './sandbox.ts';
import { shellOptions, type ShellSettings } from './shell.ts';
import { ShellSession } from './shell-session.ts';

export interface SandboxSettings {
  /** Where every sandbox's directory lives (`<state dir>/sandboxes`). */
  rootDir: string;
  catalogDir: string;
  version: string;
  maxSandboxes: number;
  /** Live sandboxes one client address may hold (so that one script cannot take every slot). */
  maxPerClient: number;
  idleTimeoutMs: number;
  idleWarningMs: number;
  lifetimeMs: number;
  /** Per-sandbox container limits (memory, pids, CPU, containers, disk). */
  limits: NonNullable<EngineOptions['limits']>;
  shell: ShellSettings;
}

/** Thrown by create() when the client already holds its share of sandboxes. */
export class ClientLimitError extends Error {
  constructor(limit: number) {
    super(`this address already has ${limit} sandbox${limit === 1 ? '' : 'es'}; try again when one of them times out`);
  }
}

/** Thrown by create() when every slot is taken. */
export class SandboxFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`all sandboxes are in use; try again in ${Math.max(1, Math.ceil(retryAfterSeconds / 60))} minutes`);
  }
}

/**
 * Sandbox netns are named `llsb-<server tag>-<sandbox id>`, the tag derived from the sandboxes' directory, so
 * that two servers on one machine (tests, a staging copy) never reap each other's.
 */
function netnsPrefix(rootDir: string): string {
  return `llsb-${createHash('sha256').update(path.resolve(rootDir)).digest('hex').slice(0, 8)}-`;
}
const NAMESPACE_PREFIX = 'sb-';
const WORKSPACE_PATH = '/workspace';
const SWEEP_INTERVAL_MS = 5000;

/**
 * Creates, finds and destroys learners' sandboxes. A sandbox is one random directory, one network namespace
 * (its "host"), one Engine over the shared store with its own namespace of names, that engine's API socket,
 * a workspace and a shell container. Nothing of a sandbox outlives it: destroy() and the start-up reaper
 * remove every process, mount, cgroup, netns and file it had.
 */
export class SandboxManager {
  private readonly byToken = new Map<string, Sandbox>();
  private readonly byPreview = new Map<string, Sandbox>();
  private readonly perClient = new Map<string, number>();
  private creating = 0;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private readonly netnsPrefix: string;

  private constructor(
    private readonly store: Store,
    private readonly settings: SandboxSettings,
    private readonly log: (line: string) => void,
  ) {
    this.netnsPrefix = netnsPrefix(settings.rootDir);
    // Often enough that the idle warning window is never skipped between two sweeps.
    this.sweeper = setInterval(() => void this.sweep(), Math.min(SWEEP_INTERVAL_MS, settings.idleWarningMs / 2));
    this.sweeper.unref();
  }

  /** Open the manager: sandboxes left by a previous server process are destroyed first (never resumed). */
  static async open(store: Store, settings: SandboxSettings, log: (line: string) => void): Promise<SandboxManager> {
    await fs.mkdir(settings.rootDir, { recursive: true, mode: 0o700 });
    const manager = new SandboxManager(store, settings, log);
    const reaped = await manager.reapOrphans();
    if (reaped > 0) log(`removed ${reaped} sandbox(es) left by the previous run`);
    return manager;
  }

  list(): Sandbox[] {
    return [...this.byToken.values()];
  }

  get(token: string | undefined): Sandbox | undefined {
    if (!token) return undefined;
    const sandbox = this.byToken.get(token);
    return sandbox && !sandbox.ended ? sandbox : undefined;
  }

  byPreviewKey(key: string): Sandbox | undefined {
    const sandbox = this.byPreview.get(key);
    return sandbox && !sandbox.ended ? sandbox : undefined;
  }

  /** A new sandbox with its shell running for `client` (its address), or SandboxFullError / ClientLimitError. */
  async create(client: string): Promise<Sandbox> {
    if (this.closed) throw new Error('the server is shutting down');
    if (this.byToken.size + this.creating >= this.settings.maxSandboxes) throw new SandboxFullError(this.secondsUntilFreeSlot());
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.settings.maxPerClient) throw new ClientLimitError(this.settings.maxPerClient);
    this.perClient.set(client, held + 1);
    this.creating++;
    try {
      const sandbox = await this.build(client);
      this.byToken.set(sandbox.parts.token, sandbox);
      this.byPreview.set(sandbox.parts.previewKey, sandbox);
      if (this.closed) {
        // The server began shutting down while this one was being made: it goes with the others.
        await this.destroy(sandbox, 'shutdown');
        throw new Error('the server is shutting down');
      }
      return sandbox;
    } catch (err) {
      this.release(client);
      throw err;
    } finally {
      this.creating--;
    }
  }

  private release(client: string): void {
    const left = (this.perClient.get(client) ?? 1) - 1;
    if (left > 0) this.perClient.set(client, left);
    else this.perClient.delete(client);
  }

  /** Destroy a sandbox: tabs are told why, then everything it had is removed. */
  async destroy(sandbox: Sandbox, reason: EndReason): Promise<void> {
    if (this.byToken.get(sandbox.parts.token) !== sandbox) return;
    this.byToken.delete(sandbox.parts.token);
    this.byPreview.delete(sandbox.parts.previewKey);
    this.release(sandbox.client);
    sandbox.end(reason);
    await sandbox.shell.close().catch(() => undefined);
    await this.teardown(sandbox.parts.dir, sandbox.parts.netns, sandbox.parts.engine, sandbox.parts.api);
  }

  /** Destroy every sandbox (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all(this.list().map((s) => this.destroy(s, 'shutdown').catch((err: unknown) => this.log(`sandbox ${s.id}: destroy failed: ${(err as Error).message}`))));
  }

  private async build(client: string): Promise<Sandbox> {
    const id = randomBytes(6).toString('hex');
    const token = randomBytes(32).toString('base64url');
    const previewKey = randomBytes(16).toString('base64url');
    const dir = path.join(this.settings.rootDir, id);
    const netns = `${this.netnsPrefix}${id}`;
    const workspaceDir = path.join(dir, 'workspace');
    const runDir = path.join(dir, 'run');
    let engine: Engine | undefined;
    let api: http.Server | undefined;
    try {
      await fs.mkdir(dir, { mode: 0o700 });
      await fs.mkdir(workspaceDir, { mode: 0o755 });
      await fs.mkdir(runDir, { mode: 0o755 });
      await createSandboxNetns(netns);
      engine = await Engine.open(this.store, this.engineOptions(id, dir, netns, workspaceDir));
      api = await serveEngineApi(engine, path.join(runDir, 'docker.sock'));
      const files = new WorkspaceFiles(workspaceDir);
      const sandbox = new Sandbox({ id, token, previewKey, dir, netns, workspaceDir, engine, api, files }, this.settings, WORKSPACE_PATH, client);
      const opened = engine;
      sandbox.shell = await ShellSession.start(
        (cols, rows) => opened.startShell(shellOptions(this.settings.shell, { runDir, workspaceDir, workspacePath: WORKSPACE_PATH, cols, rows })),
        (message) => sandbox.broadcast(message),
      );
      return sandbox;
    } catch (err) {
      await this.teardown(dir, netns, engine, api).catch(() => undefined);
      throw err;
    }
  }

  private engineOptions(id: string, dir: string, netns: string, workspaceDir: string): EngineOptions {
    return {
      namespace: `${NAMESPACE_PREFIX}${id}`,
      catalogDir: this.settings.catalogDir,
      version: this.settings.version,
      stateDir: path.join(dir, 'engine'),
      hostNetns: netns,
      workspace: { hostPath: workspaceDir, visiblePath: WORKSPACE_PATH },
      limits: this.settings.limits,
    };
  }

  /** Remove what a sandbox had, in reverse order of creation; each part may be missing. */
  private async teardown(dir: string, netns: string, engine: Engine | undefined, api: http.Server | undefined): Promise<void> {
    if (api) {
      api.close();
      api.closeAllConnections();
    }
    if (engine) await engine.destroy();
    await removeSandboxNetns(netns);
    await fs.rm(dir, { recursive: true, force: true });
  }

  /**
   * Sandboxes of a previous server process (killed, crashed, or the machine rebooted): each is reopened as
   * an engine, which finds its containers dead and its mounts, then destroyed like any other.
   */
  private async reapOrphans(): Promise<number> {
    const ids = await fs.readdir(this.settings.rootDir).catch(() => [] as string[]);
    for (const id of ids) {
      const dir = path.join(this.settings.rootDir, id);
      const netns = `${this.netnsPrefix}${id}`;
      if (!/^[0-9a-f]{12}$/.test(id)) {
        await fs.rm(dir, { recursive: true, force: true });
        continue;
      }
      if (!(await listNetns(netns)).includes(netns)) await createSandboxNetns(netns);
      const engine = await Engine.open(this.store, this.engineOptions(id, dir, netns, path.join(dir, 'workspace')));
      await this.teardown(dir, netns, engine, undefined);
    }
    for (const stray of await listNetns(this.netnsPrefix)) await removeSandboxNetns(stray);
    return ids.length;
  }

  /** Idle warnings, idle timeouts (never without a warning first) and maximum lifetimes. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    const { idleTimeoutMs, idleWarningMs, lifetimeMs } = this.settings;
    for (const sandbox of this.list()) {
      const idle = now - sandbox.lastActivity;
      const end = now - sandbox.createdAt >= lifetimeMs ? 'lifetime' : idle >= idleTimeoutMs && sandbox.warned ? 'idle' : undefined;
      if (end) {
        // A teardown that fails is logged; the next start's reaper gets what it left.
        await this.destroy(sandbox, end).catch((err: unknown) => this.log(`sandbox ${sandbox.id}: destroy failed: ${(err as Error).message}`));
      } else if (idle >= idleTimeoutMs - idleWarningMs && !sandbox.warned) {
        sandbox.warned = true;
        sandbox.broadcast({ type: 'idle-warning', secondsLeft: Math.ceil((idleTimeoutMs - idle) / 1000) });
      }
    }
  }

  /** When the first slot frees up at the latest: the soonest idle timeout or end of lifetime. */
  private secondsUntilFreeSlot(): number {
    const now = Date.now();
    const ends = this.list().map((s) => Math.min(s.lastActivity + this.settings.idleTimeoutMs, s.createdAt + this.settings.lifetimeMs));
    const soonest = ends.length > 0 ? Math.min(...ends) : now + 60_000;
    return Math.max(60, Math.ceil((soonest - now) / 1000));
  }
}
