import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Log } from './setup.ts';

/** Path of the docker CLI that setup provides (Debian's 20.10 client, the version the facts were captured with). */
export function dockerCliPath(toolsDir: string): string {
  return path.join(toolsDir, 'docker');
}

/** Bash completion for that CLI (the learner's shell mounts it read-only). */
export function dockerCompletionPath(toolsDir: string): string {
  return path.join(toolsDir, 'docker.bash-completion');
}

/**
 * Extract just the client binary and its bash completion from Debian's docker.io package: no daemon is
 * installed or started.
 */
export async function ensureDockerCli(toolsDir: string, log: Log): Promise<void> {
  const target = dockerCliPath(toolsDir);
  const completion = dockerCompletionPath(toolsDir);
  if (existsSync(target) && existsSync(completion)) return;
  log('fetching the docker CLI from Debian’s docker.io package (client only)');
  await fs.mkdir(toolsDir, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-docker-cli-'));
  try {
    execFileSync('apt-get', ['download', '-q', 'docker.io'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const deb = (await fs.readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download docker.io produced no .deb');
    execFileSync('dpkg-deb', ['-x', deb, 'root'], { cwd: work });
    await install(path.join(work, 'root/usr/share/bash-completion/completions/docker'), completion, 0o644);
    await install(path.join(work, 'root/usr/bin/docker'), target, 0o755);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function install(from: string, to: string, mode: number): Promise<void> {
  const tmp = `${to}.tmp`;
  await fs.copyFile(from, tmp);
  await fs.chmod(tmp, mode);
  await fs.rename(tmp, to);
}
