import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_20, waitFor, type DockerResult } from '../helpers/engine.ts';

/** A real Docker daemon to compare against, driven by the same docker CLI. */
export interface Dockerd {
  docker(args: string[]): DockerResult;
  stop(): Promise<void>;
}

const SHARED_SOCKET = '/run/cmp-docker.sock';

function client(host: string): Dockerd['docker'] {
  return (args) => {
    const out = spawnSync(DOCKER_20, args, { env: { PATH: process.env.PATH, HOME: os.tmpdir(), DOCKER_HOST: host }, timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
    return { code: out.status ?? -1, stdout: out.stdout?.toString() ?? '', stderr: out.stderr?.toString() ?? '' };
  };
}

/**
 * A running dockerd: the one the preamble's comparison setup runs on /run/cmp-docker.sock (or
 * LAYERLAB_CMP_DOCKER_HOST), else a private one started here (no iptables, no bridge, own data root). Returns
 * undefined when neither is possible, so tests can skip with a note instead of failing on a machine without Docker.
 */
export async function findDockerd(): Promise<Dockerd | undefined> {
  const host = process.env.LAYERLAB_CMP_DOCKER_HOST ?? `unix://${SHARED_SOCKET}`;
  if (client(host)(['version', '--format', '{{.Server.Version}}']).code === 0) return { docker: client(host), stop: async () => undefined };
  const binary = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!binary) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-dockerd-'));
  const socket = path.join(dir, 'docker.sock');
  const args = ['--iptables=false', '--bridge=none', '-H', `unix://${socket}`, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'pid')];
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  const docker = client(`unix://${socket}`);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => child.exitCode !== null || (existsSync(socket) && docker(['version']).code === 0), 60_000);
  } catch {
    await stop();
    return undefined;
  }
  if (child.exitCode !== null) {
    await stop();
    return undefined;
  }
  return { docker, stop };
}
