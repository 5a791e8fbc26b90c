import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cgroupParent } from '../../runtime/container/cgroups.ts';
import { createSandboxNetns, Engine, removeSandboxNetns, serveEngineApi, Store, type EngineOptions } from '../../runtime/index.ts';
import { CATALOG_DIR, DOCKER_20, type DockerResult } from '../helpers/engine.ts';

/**
 * A sandbox as the server makes one, in-process: a test-named netns as its host, an Engine on a temp store
 * with a workspace mapped at /workspace, and its API socket driven by the real docker CLI.
 */
export interface TestSandbox {
  base: string;
  store: Store;
  engine: Engine;
  netns: string;
  stateDir: string;
  workspace: string;
  socket: string;
  /** The real docker CLI against the sandbox's socket (async: the engine runs in this process). */
  docker(args: string[], opts?: { timeoutMs?: number }): Promise<DockerResult>;
  /** Destroy the engine, close the socket, delete the netns and every file (idempotent). */
  destroy(): Promise<void>;
}

export const WORKSPACE_PATH = '/workspace';

/** Open a sandbox; `store` may be shared by several (as the server shares one). */
export async function openSandbox(tag: string, opts: { store?: Store; limits?: EngineOptions['limits'] } = {}): Promise<TestSandbox> {
  const base = mkdtempSync(path.join(os.tmpdir(), `layerlab-sb-${tag}-`));
  const store = opts.store ?? (await Store.open(path.join(base, 'store')));
  const netns = `lltest-sb-${tag}-${randomBytes(3).toString('hex')}`;
  const workspace = path.join(base, 'workspace');
  const stateDir = path.join(base, 'engine');
  const socket = path.join(base, 'docker.sock');
  await fs.mkdir(workspace);
  await createSandboxNetns(netns);
  let engine: Engine | undefined;
  let api: http.Server | undefined;
  const destroy = async () => {
    api?.close();
    api?.closeAllConnections();
    await engine?.destroy();
    engine = undefined;
    await removeSandboxNetns(netns);
    await fs.rm(base, { recursive: true, force: true });
  };
  try {
    engine = await Engine.open(store, {
      namespace: `sb-${tag}`,
      catalogDir: CATALOG_DIR,
      version: '20.10.24',
      stateDir,
      hostNetns: netns,
      workspace: { hostPath: workspace, visiblePath: WORKSPACE_PATH },
      limits: { diskQuotaBytes: 256 * 1024 * 1024, diskPreallocate: false, ...opts.limits },
    });
    api = await serveEngineApi(engine, socket);
  } catch (err) {
    await destroy();
    throw err;
  }
  const opened = engine;
  return {
    base,
    store,
    engine: opened,
    netns,
    stateDir,
    workspace,
    socket,
    docker(args, o = {}) {
      const env = { PATH: process.env.PATH, HOME: base, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(base, 'docker-config') };
      return new Promise((resolve) => {
        execFile(DOCKER_20, args, { env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      });
    },
    destroy,
  };
}

/** What a destroyed sandbox could have left: mounts under its dir, its cgroups, its netns, its processes. */
export function sandboxLeftovers(sb: Pick<TestSandbox, 'base' | 'stateDir' | 'netns'>, pids: number[] = []) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${sb.base}/`));
  const parent = cgroupParent(path.join(sb.stateDir, 'engine'));
  const cgroups = readdirSync('/sys/fs/cgroup').filter((h) => existsSync(path.join('/sys/fs/cgroup', h, parent)));
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n === sb.netns || n.includes(netnsTagOf(sb.stateDir))) : [];
  const alive = pids.filter((p) => existsSync(`/proc/${p}`));
  return { mounts, cgroups, netns, alive, stateDir: existsSync(sb.stateDir) };
}

/** The prefix of the network manager's container netns names (its tag is derived from the state dir). */
function netnsTagOf(stateDir: string): string {
  return `layerlab-${createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 8)}-`;
}

/** Wait until `check` holds, polling every 50 ms, for at most `ms`. */
export async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
