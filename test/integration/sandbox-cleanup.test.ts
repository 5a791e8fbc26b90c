import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupParent } from '../../runtime/container/cgroups.ts';
import { createSandboxNetns, Engine, removeSandboxNetns, Store } from '../../runtime/index.ts';
import { CATALOG_DIR, REPO_ROOT } from '../helpers/engine.ts';
import { normaliseRules, sh } from './network-helpers.ts';
import { openSandbox, sandboxLeftovers, until, WORKSPACE_PATH, type TestSandbox } from './sandbox-helpers.ts';

/** Every process in the engine's container cgroups (the shell's included). */
function enginePids(sb: TestSandbox): number[] {
  const dir = path.join('/sys/fs/cgroup/pids', cgroupParent(path.join(sb.stateDir, 'engine')));
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => readFileSync(path.join(dir, e.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
}

describe('destroying a sandbox leaves nothing', () => {
  let store: Store;
  let keep: TestSandbox;
  let sb: TestSandbox;
  beforeAll(async () => {
    keep = await openSandbox('keep');
    store = keep.store;
    sb = await openSandbox('clean', { store });
  }, 60_000);
  afterAll(async () => {
    await sb?.destroy();
    await keep?.destroy();
  });

  it('no process, mount, cgroup, netns, rule, namespace or state file stays; shared images do', async () => {
    const rulesBefore = normaliseRules(sh('iptables-nft-save', []));
    const shell = await sb.engine.startShell({
      image: 'busybox',
      cmd: ['sh'],
      env: [],
      workingDir: WORKSPACE_PATH,
      hostname: 'sandbox',
      binds: [{ source: sb.workspace, destination: WORKSPACE_PATH, readOnly: false }],
      cols: 80,
      rows: 24,
    });
    const web = await sb.docker(['run', '-d', '-p', '18081:80', '-v', '/workspace:/www:ro', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    expect(web.stderr).toBe('');
    expect((await sb.docker(['run', '-d', 'busybox', 'sleep', '300'])).stderr).toBe('');
    // An image only this sandbox holds: destroy must let the store reclaim it.
    const commit = await sb.docker(['commit', web.stdout.trim(), 'only-here']);
    const onlyHere = commit.stdout.trim();
    expect(onlyHere).toMatch(/^sha256:/);
    const pids = enginePids(sb);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    const before = sandboxLeftovers(sb, pids);
    expect(before.mounts.length).toBeGreaterThanOrEqual(4);
    expect(before.netns.length).toBeGreaterThanOrEqual(3);

    await sb.engine.destroy();
    expect(await shell.exited).toBe(137);
    const after = sandboxLeftovers(sb, pids);
    expect(await until(() => sandboxLeftovers(sb, pids).alive.length === 0)).toBe(true);
    expect({ ...after, netns: after.netns.filter((n) => n !== sb.netns), alive: [] }).toEqual({ mounts: [], cgroups: [], netns: [], alive: [], stateDir: false });
    expect(existsSync(path.join(store.root, 'namespaces', 'sb-clean.json'))).toBe(false);
    expect(existsSync(path.join(store.root, 'blobs', 'sha256', onlyHere.slice(7)))).toBe(false);
    // The other sandbox's images are untouched, and it still runs containers.
    expect((await keep.docker(['run', '--rm', 'busybox', 'echo', 'alive'])).stdout).toBe('alive\n');
    // The sandbox's rules lived in its netns only; the machine's are as they were.
    expect(normaliseRules(sh('iptables-nft-save', []))).toBe(rulesBefore);
    await sb.destroy();
    expect(sandboxLeftovers(sb).netns).toEqual([]);
    expect(existsSync(sb.base)).toBe(false);
  });

  it('after the server process is killed, reopening the engine and destroying it leaves nothing', async () => {
    const base = path.join(keep.base, 'crashed');
    const crashed = { base, stateDir: path.join(base, 'engine'), netns: `${keep.netns}-x` };
    mkdirSync(path.join(base, 'workspace'), { recursive: true });
    await createSandboxNetns(crashed.netns);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'sandbox-crash-fixture.ts'), store.root, crashed.stateDir, crashed.netns, path.join(base, 'workspace'), 'sb-crashed'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    const cgroupDir = path.join('/sys/fs/cgroup/pids', cgroupParent(path.join(crashed.stateDir, 'engine')));
    const pids = readdirSync(cgroupDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => readFileSync(path.join(cgroupDir, e.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    expect(pids.length).toBeGreaterThanOrEqual(2);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const left = sandboxLeftovers(crashed, pids);
    expect(left.mounts.filter((m) => m.includes('/engine/system/'))).toHaveLength(1);
    expect(left.alive.length).toBeGreaterThanOrEqual(2);
    // What the server does at start for a sandbox it finds: open its engine (which reaps), then destroy it.
    const engine = await Engine.open(store, { namespace: 'sb-crashed', catalogDir: CATALOG_DIR, version: '20.10.24', stateDir: crashed.stateDir, hostNetns: crashed.netns });
    await engine.destroy();
    await removeSandboxNetns(crashed.netns);
    expect(await until(() => sandboxLeftovers(crashed, pids).alive.length === 0)).toBe(true);
    expect(sandboxLeftovers(crashed, pids)).toEqual({ mounts: [], cgroups: [], netns: [], alive: [], stateDir: false });
  });
});
