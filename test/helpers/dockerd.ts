import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DOCKER_20, waitFor, type DockerResult } from './engine.ts';

/** A private real dockerd (Debian's docker.io) to compare layerlab with. */
export interface ComparisonDaemon {
  socket: string;
  /** Run Debian's 20.10 docker CLI against it. */
  docker(args: string[]): DockerResult;
  stop(): Promise<void>;
}

/** The same, as the comparison tests call it. */
export type Dockerd = ComparisonDaemon;

let started = 0;

/**
 * A dockerd for a comparison test: LAYERLAB_CMP_DOCKER_HOST when set and answering (a daemon someone keeps
 * running while iterating), else a private one without bridge or iptables. Undefined when neither can be had,
 * so the test skips with a note.
 */
export async function findDockerd(): Promise<Dockerd | undefined> {
  const shared = process.env.LAYERLAB_CMP_DOCKER_HOST;
  if (shared) {
    const socket = shared.replace(/^unix:\/\//, '');
    const docker = cliFor(socket);
    if (docker(['version']).code === 0) return { socket, docker, stop: async () => undefined };
  }
  return startDockerd({ name: `t${process.pid}-${++started}` }, () => undefined);
}

function cliFor(socket: string): (args: string[]) => DockerResult {
  return (args) => {
    const out = spawnSync(DOCKER_20, args, {
      env: { PATH: process.env.PATH, HOME: os.tmpdir(), DOCKER_HOST: `unix://${socket}` },
      timeout: 120_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    return { code: out.status ?? -1, stdout: out.stdout?.toString() ?? '', stderr: out.stderr?.toString() ?? '' };
  };
}

export interface DockerdOptions {
  /** Name for its socket, data root and exec root (several may run side by side). */
  name: string;
  /**
   * With its default bridge network and iptables rules, as a learner's Docker runs; otherwise
   * `--bridge=none --iptables=false`, which leaves the machine's network untouched.
   */
  bridge?: boolean;
}

const BRIDGE_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/**
 * Start a dockerd on its own socket, data root and exec root. Returns undefined, after calling `note`
 * with the reason, when docker.io is not installed or dockerd does not start. `stop()` restores what dockerd
 * changed on the machine (its bridge, iptables rules, the bridge netfilter switch).
 */
export async function startDockerd(opts: DockerdOptions, note: (s: string) => void): Promise<ComparisonDaemon | undefined> {
  if (!existsSync('/usr/sbin/dockerd')) {
    note('no dockerd on this machine (apt-get install docker.io to compare)');
    return undefined;
  }
  const root = `/var/lib/layerlab-${opts.name}-dockerd`;
  const run = `/run/layerlab-${opts.name}-dockerd`;
  const socket = `${run}.sock`;
  const saved = opts.bridge ? snapshotNetwork() : undefined;
  const net = opts.bridge ? [] : ['--bridge=none', '--iptables=false', '--ip-masq=false'];
  const child: ChildProcess = spawn('/usr/sbin/dockerd', ['-H', `unix://${socket}`, '--data-root', root, '--exec-root', run, '--pidfile', `${run}.pid`, ...net], {
    stdio: 'ignore',
  });
  const docker = cliFor(socket);
  const ready = () => docker(['version']).code === 0;
  try {
    await waitFor(() => child.exitCode !== null || ready(), 60_000);
  } catch {
    child.kill('SIGKILL');
  }
  if (child.exitCode !== null || child.killed) {
    note('dockerd did not start');
    if (saved) restoreNetwork(saved);
    return undefined;
  }
  return {
    socket,
    docker,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      if (saved) restoreNetwork(saved);
      // dockerd bind-mounts its data root onto itself; one that died mid-way leaves that mount behind.
      spawnSync('umount', [root], { stdio: 'ignore' });
      await fs.rm(root, { recursive: true, force: true });
      await fs.rm(run, { recursive: true, force: true });
    },
  };
}

interface NetworkSnapshot {
  rules: string;
  bridgeNf?: string;
}

function snapshotNetwork(): NetworkSnapshot {
  return {
    rules: spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout,
    bridgeNf: existsSync(BRIDGE_NF) ? readFileSync(BRIDGE_NF, 'utf8') : undefined,
  };
}

function restoreNetwork(saved: NetworkSnapshot): void {
  spawnSync('ip', ['link', 'delete', 'docker0'], { stdio: 'ignore' });
  spawnSync('iptables-restore', [], { input: saved.rules });
  if (saved.bridgeNf !== undefined && existsSync(BRIDGE_NF)) writeFileSync(BRIDGE_NF, saved.bridgeNf);
}
