import { promises as fs } from 'node:fs';
import path from 'node:path';
import { invalid, isErrno } from '../errors.ts';
import { run, ToolError } from '../util/exec.ts';

/**
 * The engine's "host" network namespace: undefined for the engine process's own (the standalone engine on
 * the machine), or the name of a netns under /run/netns (a sandbox). Node cannot setns, so every tool that
 * must act there is started by argv through `ip -n` or `nsenter --net=`, never through a shell.
 */
export type HostNetns = string | undefined;

export const NETNS_DIR = '/run/netns';
const NETNS_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const TOOL_TIMEOUT_MS = 15_000;

export function checkNetnsName(name: string): string {
  if (!NETNS_NAME_RE.test(name) || name.includes('..')) throw invalid(`invalid network namespace name: ${JSON.stringify(name)}`);
  return name;
}

export function netnsPath(name: string): string {
  return path.join(NETNS_DIR, checkNetnsName(name));
}

/** Run `ip` with the given arguments in a netns (named) or in the engine's own. */
export function ip(ns: HostNetns, args: readonly string[]): Promise<string> {
  return run('ip', ns === undefined ? args : ['-n', ns, ...args], { timeoutMs: TOOL_TIMEOUT_MS });
}

/**
 * Run several `ip` commands in one process (`ip -batch -`), in a netns (named) or in the engine's own: one
 * spawn instead of one per command. Lines are built from engine-made names only, never from learner text.
 * It stops at the first failing line (those before it stay done); with `force` it runs every line and
 * fails only if a line failed for a reason other than "already gone".
 */
export async function ipBatch(ns: HostNetns, lines: readonly string[], opts: { force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(ns === undefined ? [] : ['-n', ns]), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  try {
    await run('ip', args, { timeoutMs: TOOL_TIMEOUT_MS, input: `${lines.join('\n')}\n` });
  } catch (err) {
    // With -force, stderr has one line per failed command and a summary: only "already gone" ones are fine.
    if (!opts.force || !(err instanceof ToolError)) throw err;
    const real = err.stderr.split('\n').filter((l) => l.trim() && !/^Command failed/.test(l) && !MISSING.test(l));
    if (real.length > 0) throw err;
  }
}

/** Run any host tool inside a netns. nsenter only switches the network namespace; the binary is the host's. */
export function inNetns(ns: HostNetns, file: string, args: readonly string[], input?: string): Promise<string> {
  const opts = { timeoutMs: TOOL_TIMEOUT_MS, input };
  if (ns === undefined) return run(file, args, opts);
  return run('nsenter', [`--net=${netnsPath(ns)}`, '--', file, ...args], opts);
}

/** Write a sysctl under net.* (per netns: /proc/sys/net shows the netns of the process that opens it). */
export async function setSysctl(ns: HostNetns, key: string, value: string): Promise<void> {
  await setSysctls(ns, [[key, value]]);
}

/**
 * Write several sysctls under net.* in one go: in the engine's own netns straight through /proc/sys (keys
 * here never hold a `/`, so dots are the separators), elsewhere with one `sysctl` run inside the netns.
 */
export async function setSysctls(ns: HostNetns, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
  if (entries.length === 0) return;
  if (ns === undefined && entries.every(([key]) => /^net\.[A-Za-z0-9_.-]+$/.test(key))) {
    for (const [key, value] of entries) await fs.writeFile(path.join('/proc/sys', ...key.split('.')), value);
    return;
  }
  await inNetns(ns, 'sysctl', ['-q', '-w', ...entries.map(([key, value]) => `${key}=${value}`)]);
}

/** Errors that mean "already gone": removal is idempotent so recovery can replay it. */
const MISSING = /Cannot find device|No such file|does not exist|No such device|No such process|Cannot remove namespace|doesn't exist|Bad rule|No chain/;

export async function ignoreMissing(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!(err instanceof Error) || !MISSING.test(err.message)) throw err;
  }
}

/** Create a named netns with its loopback up (a sandbox's host netns). */
export async function addNetns(name: string): Promise<void> {
  await addBareNetns(name);
  await ip(name, ['link', 'set', 'lo', 'up']);
}

/** Create a named netns, nothing in it up: a container's, whose first attach brings its loopback up. */
export async function addBareNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', checkNetnsName(name)], { timeoutMs: TOOL_TIMEOUT_MS });
}

export async function deleteNetns(name: string): Promise<void> {
  await ignoreMissing(run('ip', ['netns', 'delete', checkNetnsName(name)], { timeoutMs: TOOL_TIMEOUT_MS }));
}

export async function netnsExists(name: string): Promise<boolean> {
  try {
    await fs.access(netnsPath(name));
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Names under /run/netns that start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  try {
    return (await fs.readdir(NETNS_DIR)).filter((n) => n.startsWith(prefix));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
