import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NetworkManager } from '../../runtime/network/index.ts';

/**
 * Helpers for the network suites: a test-created "host" netns per suite (the machine's own interfaces
 * are never touched), tiny Node servers and clients started inside a netns by argv through nsenter, and
 * snapshots of links, namespaces and iptables rules for the leave-nothing checks.
 */

export function sh(file: string, args: string[], input?: string): string {
  const r = spawnSync(file, args, { input, timeout: 20_000, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function nsPath(ns: string): string {
  return ns.startsWith('/') ? ns : `/run/netns/${ns}`;
}

/** A fresh named netns with loopback up, standing in for an engine's host netns. */
export function makeNetns(tag: string): string {
  const name = `lltest-${tag}-${randomBytes(3).toString('hex')}`;
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'delete', name], { timeout: 20_000 });
}

export function tempStateDir(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `layerlab-net-${tag}-`));
}

const SERVER = `
const [proto, host, port, reply] = process.argv.slice(1);
if (proto === 'udp') {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => s.send(reply + ':' + m, r.port, r.address));
  s.bind(Number(port), host, () => console.log('listening'));
} else {
  const s = require('node:net').createServer((c) => { c.end(reply + ':' + c.remoteAddress + '\\n'); });
  s.listen(Number(port), host, () => console.log('listening'));
}
setTimeout(() => process.exit(0), 120000);
`;

const CLIENT = `
const [proto, host, port, ms] = process.argv.slice(1);
const timer = setTimeout(() => { console.log('ERR:timeout'); process.exit(0); }, Number(ms));
if (proto === 'udp') {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m) => { console.log(String(m)); process.exit(0); });
  s.on('error', (e) => { console.log('ERR:' + e.code); process.exit(0); });
  s.send('ping', Number(port), host);
} else {
  let out = '';
  const c = require('node:net').connect(Number(port), host);
  c.on('data', (d) => { out += d; });
  c.on('end', () => { clearTimeout(timer); console.log(out.trim()); process.exit(0); });
  c.on('error', (e) => { console.log('ERR:' + e.code); process.exit(0); });
}
`;

function nodeIn(ns: string | undefined, args: string[]): [string, string[]] {
  const node = process.execPath;
  return ns === undefined ? [node, args] : ['nsenter', [`--net=${nsPath(ns)}`, '--', node, ...args]];
}

export interface Server {
  stop(): Promise<void>;
}

/** Start a server in a netns that answers `<reply>:<peer address>`, and wait until it listens. */
export async function startServer(ns: string, host: string, port: number, reply: string, proto: 'tcp' | 'udp' = 'tcp'): Promise<Server> {
  const [file, args] = nodeIn(ns, ['-e', SERVER, proto, host, String(port), reply]);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server in ${ns} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Connect from a netns (undefined: the test process's own) and return the reply line or `ERR:<code>`. */
export function probe(ns: string | undefined, host: string, port: number, proto: 'tcp' | 'udp' = 'tcp', timeoutMs = 1500): string {
  const [file, args] = nodeIn(ns, ['-e', CLIENT, proto, host, String(port), String(timeoutMs)]);
  const r = spawnSync(file, args, { timeout: timeoutMs + 5000, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe failed to run: ${r.stderr}`);
  return r.stdout.trim();
}

/** What the leave-nothing checks compare: links of a netns, its rules, and this engine's netns names. */
export function snapshot(ns: string | undefined): { links: string[]; rules: string } {
  const inNs = (file: string, args: string[]) => (ns === undefined ? sh(file, args) : sh('nsenter', [`--net=${nsPath(ns)}`, '--', file, ...args]));
  const links = inNs('ip', ['-o', 'link', 'show'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().split('@')[0]!)
    .sort();
  return { links, rules: normaliseRules(inNs('iptables-nft-save', [])) };
}

/**
 * iptables-save output without comments and counters, and without the empty built-in tables that
 * iptables-nft creates on first use (policy ACCEPT, no rules): they filter nothing, and removing a whole
 * table could remove someone else's rules added meanwhile. Every rule and user chain is kept.
 */
export function normaliseRules(save: string): string {
  const out: string[] = [];
  let table: string[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const l = line.replace(/\[\d+:\d+\]/g, '').trim();
    if (l.startsWith('*')) table = [l];
    else if (l === 'COMMIT') {
      if (table.some((t) => !/^\*|^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT$/.test(t))) out.push(...table, l);
    } else table.push(l);
  }
  return out.join('\n');
}

/**
 * Container netns of the engine whose state is `stateDir` (runtime/network/manager.ts names them
 * `layerlab-<tag>-…`, the tag from the state dir), so that other engines on the machine, creating and
 * removing their own meanwhile, do not move the count; without it, every engine's.
 */
export function layerlabNetns(stateDir?: string): string[] {
  const prefix = stateDir === undefined ? 'layerlab-' : `layerlab-${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}-`;
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

export async function readHosts(file: string): Promise<string> {
  return fs.readFile(file, 'utf8');
}

/** A 64-hex container ID, as the runtime makes them. */
export function containerId(): string {
  return randomBytes(32).toString('hex');
}

const BY_NAME = `
const [hostsFile, name, port] = process.argv.slice(1);
const m = require('node:child_process').spawnSync('mount', ['--bind', hostsFile, '/etc/hosts']);
if (m.status !== 0) { console.log('ERR:mount ' + m.stderr); process.exit(0); }
setTimeout(() => { console.log('ERR:timeout'); process.exit(0); }, 1500);
let out = '';
const c = require('node:net').connect(Number(port), name);
c.on('data', (d) => { out += d; });
c.on('end', () => { console.log(out.trim()); process.exit(0); });
c.on('error', (e) => { console.log('ERR:' + e.code); process.exit(0); });
`;

/**
 * Connect to `name:port` from a container netns the way a process in the container would: libc's
 * resolver reading the container's hosts file, bind-mounted on /etc/hosts in a private mount namespace.
 */
export function probeByName(ns: string, hostsFile: string, name: string, port: number): string {
  const args = [`--net=${nsPath(ns)}`, '--', 'unshare', '-m', '--propagation', 'private', '--', process.execPath, '-e', BY_NAME, hostsFile, name, String(port)];
  const r = spawnSync('nsenter', args, { timeout: 10_000, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe by name failed to run: ${r.stderr}`);
  return r.stdout.trim();
}

/** A test-created host netns with its own NetworkManager, and the servers a test starts in it. */
export interface TestHost {
  host: string;
  stateDir: string;
  net: NetworkManager;
  servers: Server[];
}

export async function openTestHost(tag: string, opts: { firewallCheckMs?: number } = {}): Promise<TestHost> {
  const host = makeNetns(tag);
  const stateDir = tempStateDir(tag);
  return { host, stateDir, net: await NetworkManager.open({ stateDir, hostNetns: host, ...opts }), servers: [] };
}

export async function closeTestHost(t: TestHost | undefined): Promise<void> {
  if (!t) return;
  for (const s of t.servers) await s.stop();
  await t.net.shutdown();
  deleteNetns(t.host);
  await fs.rm(t.stateDir, { recursive: true, force: true });
}
