import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** Where `npm test`'s setup step leaves the shared catalog and tools (the defaults of a fresh install). */
export const DEFAULT_STATE_DIR = process.env.LAYERLAB_STATE_DIR ?? '/var/lib/layerlab';
export const CATALOG_DIR = process.env.LAYERLAB_CATALOG_DIR ?? path.join(DEFAULT_STATE_DIR, 'catalog');
/** Debian's docker 20.10 client, extracted by setup. */
export const DOCKER_20 = path.join(DEFAULT_STATE_DIR, 'tools', 'docker');
/** A current docker CLI, when the machine has one. */
export const DOCKER_28 = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p) && p !== DOCKER_20);

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestEngine {
  /** The engine process (for measurements). */
  pid: number;
  stateDir: string;
  socket: string;
  /** Run the real docker CLI against this engine. */
  docker(args: string[], opts?: { input?: string | Buffer; cli?: string; cwd?: string; timeoutMs?: number }): DockerResult;
  /** Stop the engine cleanly and start a new one on the same state dir (what an engine upgrade does). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a real standalone engine (`server/cli.ts engine`) on a fresh state dir and socket, sharing the
 * machine's catalog. The engine is a separate process, driven only through its socket. `extraArgs` go to the
 * engine's command line (e.g. `--max-archive-entries 10`).
 */
export async function startEngine(name: string, opts: { catalogDir?: string; extraArgs?: string[] } = {}): Promise<TestEngine> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `layerlab-${name}-`));
  const socket = path.join(stateDir, 'engine.sock');
  const args = [...engineArgs(stateDir, socket, opts.catalogDir ?? CATALOG_DIR), ...(opts.extraArgs ?? [])];
  let child = await launch(args);
  return {
    get pid() {
      return child.pid!;
    },
    stateDir,
    socket,
    docker(args, o = {}) {
      const out = spawnSync(o.cli ?? DOCKER_20, args, {
        input: o.input,
        cwd: o.cwd,
        env: { PATH: process.env.PATH, HOME: stateDir, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(stateDir, 'docker-config') },
        timeout: o.timeoutMs ?? 60_000,
        maxBuffer: 512 * 1024 * 1024,
      });
      return { code: out.status ?? -1, stdout: out.stdout?.toString() ?? '', stderr: out.stderr?.toString() ?? '' };
    },
    async restart() {
      await stopChild(child);
      child = await launch(args);
    },
    async stop() {
      await stopChild(child);
      // An engine that died (a crash under test) leaves mounts, netns and cgroups; the next engine on the same
      // state dir reaps them at start, exactly as after a crash in production.
      if (child.exitCode !== 0) await stopChild(await launch(args).catch(() => undefined));
      await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
}

function engineArgs(stateDir: string, socket: string, catalogDir: string): string[] {
  return ['--state-dir', stateDir, '--socket', socket, '--catalog-dir', catalogDir, '--skip-setup', '--disk-quota', '256m'];
}

/** Start `server/cli.ts engine` and wait until it listens; throws with its stderr if it exits first. */
async function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/cli.ts'), 'engine', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, LAYERLAB_TOOLS_DIR: path.join(DEFAULT_STATE_DIR, 'tools') },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitFor(() => stderr.includes('engine listening') || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`engine exited (${child.exitCode}): ${stderr}`);
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait until `url` answers 200 (a server starting in a container behind a published port). */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  let up = false;
  await waitFor(() => {
    void fetch(url).then((r) => (up = r.status === 200), () => undefined);
    return up;
  }, timeoutMs);
}
