import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { forbidden } from '../errors.ts';
import { atomicWriteFile } from '../util/fsx.ts';
import { cleanWorkdir, processEnv, replaceOrAppendEnv } from './command.ts';
import { effectiveCapabilities } from './caps.ts';
import { refuseProcWorkdir } from './policy.ts';
import { lastRuncError, type Runc } from './runc.ts';
import { resolveInRoot } from './rootfs-path.ts';
import { processSpec } from './spec.ts';
import type { ContainerRecord } from './types.ts';
import { resolveUserInRoot } from './user.ts';

/** `docker exec` options, as the API layer parses them. */
export interface ExecOptions {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  /** Give the process a stdin (`-i`); without it, it reads /dev/null. */
  stdin?: boolean;
  privileged?: boolean;
  cols?: number;
  rows?: number;
}

export interface ExecProcess {
  /** Pid of the runc process that parents the exec'd process. */
  pid: number;
  stdout: Readable;
  /** null with a TTY. */
  stderr: Readable | null;
  stdin: Writable | null;
  resize(cols: number, rows: number): void;
  /** The exit code, and runc's error when the process could not be started (then 126 or 127, as Docker). */
  exited: Promise<{ exitCode: number; error?: string }>;
}

/**
 * Run a process in a running container with `runc exec --process`: the same capabilities and seccomp
 * profile as the container (runc applies the container's), the user resolved from the container's files.
 */
export async function startExec(runc: Runc, record: ContainerRecord, rootfs: string, dir: string, opts: ExecOptions): Promise<ExecProcess> {
  if (opts.privileged) throw forbidden('exec --privileged is not allowed in layerlab');
  const cwd = cleanWorkdir(opts.workdir || record.Config.WorkingDir);
  refuseProcWorkdir(cwd);
  refuseProcWorkdir(`/${path.relative(rootfs, await resolveInRoot(rootfs, cwd))}`);
  const tty = opts.tty === true;
  const user = await resolveUserInRoot(rootfs, opts.user || record.Config.User || '', record.HostConfig.GroupAdd ?? []);
  const env = replaceOrAppendEnv(processEnv(record.Config, record.Config.Hostname, tty), opts.env ?? []);
  const caps = effectiveCapabilities(record.HostConfig.CapAdd ?? [], record.HostConfig.CapDrop ?? []);
  const noNewPrivileges = (record.HostConfig.SecurityOpt ?? []).some((o) => o.startsWith('no-new-privileges'));
  const tag = randomBytes(6).toString('hex');
  const processFile = path.join(dir, `exec-${tag}.json`);
  const logFile = path.join(dir, `exec-${tag}.log`);
  await atomicWriteFile(processFile, JSON.stringify(processSpec({ args: opts.cmd, env, cwd, user, tty, capabilities: caps, noNewPrivileges })), 0o600);
  const proc = runc.spawn(['exec', '--process', processFile, record.Id], { tty, stdin: opts.stdin === true, logFile, cols: opts.cols, rows: opts.rows });
  const exited = proc.exited.then(async ({ code }) => {
    const error = code !== 0 ? await lastRuncError(logFile) : undefined;
    await fs.rm(processFile, { force: true });
    await fs.rm(logFile, { force: true });
    if (!error) return { exitCode: code };
    const message = `OCI runtime exec failed: ${error.replace(/^runc exec failed: /, 'exec failed: ')}: unknown`;
    return { exitCode: /executable file not found|no such file/i.test(error) ? 127 : 126, error: message };
  });
  return { pid: proc.pid, stdout: proc.stdout, stderr: proc.stderr, stdin: proc.stdin, resize: proc.resize, exited };
}
