import { execFileSync } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestRuntime, runContainer, type TestRuntime } from './container-helpers.ts';

describe('container resource limits', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    // Engine-wide defaults only: the fork bomb below sets no flags.
    t = await openTestRuntime('ctr-res', { limits: { defaultPids: 64, defaultMemory: 256 * 1024 * 1024, diskQuotaBytes: 64 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('contains a fork bomb with the default pids limit (EAGAIN) while the engine stays responsive', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 100'] } });
    await t.rt.start(Id);
    await new Promise((r) => setTimeout(r, 2000));
    const pids = Number(execFileSync('cat', [`/sys/fs/cgroup/pids${t.rt.inspect(Id).record.CgroupPath}/pids.current`]).toString());
    expect(pids).toBeLessThanOrEqual(64);
    const started = performance.now();
    const other = await runContainer(t, ['echo', 'still here']);
    expect(other.stdout).toBe('still here\n');
    expect(performance.now() - started).toBeLessThan(10_000);
    const exit = t.rt.wait(Id, 'next-exit');
    await t.rt.kill(Id);
    expect((await exit).StatusCode).toBe(137);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(t.rt.inspect(Id).paths.logPath, 'utf8')).toContain('Resource temporarily unavailable');
  });

  it('OOM-kills a memory bomb: exit 137 and OOMKilled', async () => {
    const r = await runContainer(t, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=200M', 'count=1'], { hostConfig: { Memory: 32 * 1024 * 1024 } });
    expect(r.code).toBe(137);
    expect(t.rt.inspect(r.id).state.OOMKilled).toBe(true);
    const ok = await runContainer(t, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1M', 'count=1'], { hostConfig: { Memory: 32 * 1024 * 1024 } });
    expect(ok.code).toBe(0);
    expect(t.rt.inspect(ok.id).state.OOMKilled).toBe(false);
  });

  it('gives a disk-filling container ENOSPC and leaves the host free space unchanged', async () => {
    const before = await statfs(t.stateDir);
    const r = await runContainer(t, ['sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=1024; echo dd=$?; ls -l /big']);
    const after = await statfs(t.stateDir);
    expect(r.stderr).toContain('No space left on device');
    expect(r.stdout).toContain('dd=1');
    const written = Number(r.stdout.split('\n')[1]!.trim().split(/\s+/)[4]);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(written).toBeGreaterThan(32 * 1024 * 1024);
    // The quota file was allocated when the runtime opened; filling it takes nothing more from the host.
    const hostDrop = (before.bavail - after.bavail) * before.bsize;
    expect(hostDrop).toBeLessThan(8 * 1024 * 1024);
    await t.rt.remove(r.id);
  });

  it('applies cpu and memory flags to the cgroup', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sleep', '100'] }, hostConfig: { NanoCpus: 500_000_000, CpuShares: 512, Memory: 64 * 1024 * 1024, PidsLimit: 50 } });
    await t.rt.start(Id);
    const cg = t.rt.inspect(Id).record.CgroupPath;
    const read = (f: string) => execFileSync('cat', [`/sys/fs/cgroup/${f.replace('@', cg)}`]).toString().trim();
    expect(read('cpu@/cpu.cfs_quota_us')).toBe('50000');
    expect(read('cpu@/cpu.shares')).toBe('512');
    expect(read('memory@/memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(read('pids@/pids.max')).toBe('50');
    await t.rt.remove(Id, { force: true });
    await expect(t.rt.create({ image: t.image, config: { Cmd: ['true'] }, hostConfig: { PidsLimit: 100_000 } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
