import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupParent } from '../../runtime/container/cgroups.ts';
import { REPO_ROOT } from '../helpers/engine.ts';
import { openTestRuntime, runContainer, type TestRuntime } from './container-helpers.ts';

/** What a runtime could leave behind: mounts under its state, its cgroups, runc state, processes. */
function leftovers(t: TestRuntime, pids: number[] = []) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${t.stateDir}/`) && m !== path.join(t.stateDir, 'rw'));
  const parent = cgroupParent(t.stateDir);
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => {
    const dir = path.join('/sys/fs/cgroup', h, parent);
    return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${h}${parent}/${e.name}`) : [];
  });
  const runcDir = path.join(t.stateDir, 'runc');
  const runcState = existsSync(runcDir) ? readdirSync(runcDir) : [];
  const alive = pids.filter((p) => existsSync(`/proc/${p}`));
  return { mounts, cgroups, runcState, alive };
}

const NOTHING = { mounts: [], cgroups: [], runcState: [], alive: [] };

describe('nothing is left behind', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await openTestRuntime('ctr-clean');
  });
  afterAll(async () => {
    const parent = cgroupParent(t.stateDir);
    await t?.cleanup();
    expect(readdirSync('/sys/fs/cgroup').filter((h) => existsSync(path.join('/sys/fs/cgroup', h, parent)))).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(t.stateDir);
  });

  it('after stop and after remove', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sleep', '100'] } });
    await t.rt.start(Id);
    const pid = t.rt.inspect(Id).state.Pid;
    expect(leftovers(t, [pid]).mounts).toHaveLength(1);
    await t.rt.stop(Id, { timeoutSeconds: 1 });
    expect(leftovers(t, [pid])).toEqual(NOTHING);
    const upper = t.rt.inspect(Id).paths.upperDir;
    await t.rt.remove(Id);
    expect(existsSync(upper)).toBe(false);
    expect(existsSync(path.join(t.stateDir, 'containers', Id))).toBe(false);
    const r = await runContainer(t, ['true'], { hostConfig: { AutoRemove: true } });
    await t.rt.wait(r.id, 'removed').catch(() => undefined);
    expect(() => t.rt.inspect(r.id)).toThrow('No such container');
    // `removed` answers once the container is gone for the API; its mount goes right after.
    for (let i = 0; i < 50 && leftovers(t).mounts.length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(t)).toEqual(NOTHING);
  });

  it('after the engine is killed and restarted', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'container-crash-fixture.ts'), t.store.root, t.stateDir, t.image], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    const ids = line.split(' ').slice(1);
    expect(ids).toHaveLength(2);
    const pids = ids.map((id) => (JSON.parse(readFileSync(path.join(t.stateDir, 'containers', id, 'state.json'), 'utf8')) as { Pid: number }).Pid);
    expect(leftovers(t, pids).alive).toHaveLength(2);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const rt = await t.reopen();
    for (let i = 0; i < 50 && leftovers(t, pids).alive.length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(t, pids)).toEqual(NOTHING);
    for (const id of ids) expect(rt.inspect(id).state).toMatchObject({ Status: 'exited', Running: false, ExitCode: 255, Pid: 0 });
    // And the containers can run again.
    const again = rt.wait(ids[0]!, 'next-exit');
    await rt.start(ids[0]!);
    await rt.kill(ids[0]!);
    expect((await again).StatusCode).toBe(137);
    expect(leftovers(t)).toEqual(NOTHING);
  });

  it('finishes a removal that a crash cut short after its commit point', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['true'] } });
    const { upperDir, dir } = t.rt.inspect(Id).paths;
    // What a crash right after the record went leaves: the container's directory and its writable layer.
    rmSync(path.join(dir, 'config.json'));
    const rt = await t.reopen();
    expect(() => rt.inspect(Id)).toThrow('No such container');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(path.dirname(upperDir))).toBe(false);
  });
});
