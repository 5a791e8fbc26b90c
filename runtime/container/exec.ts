import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
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
  const pidFile = path.join(dir, `exec-${tag}.pid`);
  const proc = await runc.spawn(['exec', '--pid-file', pidFile, '--process', processFile, record.Id], { tty, stdin: opts.stdin === true, logFile, cols: opts.cols, rows: opts.rows });
  const stderr = proc.stderr ? gateUntilStarted(proc.stderr, pidFile) : null;
  const exited = proc.exited.then(async ({ code }) => {
    const error = code !== 0 ? await lastRuncError(logFile) : undefined;
    stderr?.settle(error === undefined);
    await Promise.all([processFile, logFile, pidFile].map((f) => fs.rm(f, { force: true })));
    if (!error) return { exitCode: code };
    const message = `OCI runtime exec failed: ${error.replace(/^runc exec failed: /, 'exec failed: ')}: unknown`;
    return { exitCode: /executable file not found|no such file/i.test(error) ? 127 : 126, error: message };
  });
  return { pid: proc.pid, stdout: proc.stdout, stderr: stderr?.stream ?? null, stdin: proc.stdin, resize: proc.resize, exited };
}

/**
 * When runc cannot start the exec'd process it prints its own error on that process's stderr, and dockerd's
 * answer (the exec's ExitCode and the CLI's message) already says it: hold stderr back until runc has written
 * the pid file (the process runs), and drop what was held if the process never started.
 */
function gateUntilStarted(source: Readable, pidFile: string): { stream: Readable; settle(started: boolean): void } {
  const out = new PassThrough();
  let held: Buffer[] | undefined = [];
  const release = () => {
    for (const chunk of held ?? []) out.write(chunk);
    held = undefined;
  };
  source.on('data', (chunk: Buffer) => {
    if (held && existsSync(pidFile)) release();
    if (held) held.push(chunk);
    else out.write(chunk);
  });
  source.on('end', () => {
    if (!held) out.end();
  });
  source.on('error', (err) => out.destroy(err));
  return {
    stream: out,
    settle(started) {
      if (!held) return;
      if (started) release();
      held = undefined;
      if (source.readableEnded) out.end();
      else source.once('end', () => out.end());
    },
  };
}
