import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPABILITY_BITS, DEFAULT_CAPABILITIES } from '../../runtime/container/caps.ts';
import { openTestRuntime, runContainer, type TestRuntime } from './container-helpers.ts';

describe('container confinement (SECURITY.md)', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await openTestRuntime('ctr-sec', { allowedBindRoots: ['/nonexistent-workspaces'] });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("keeps exactly Docker's 14 default capabilities", async () => {
    const r = await runContainer(t, ['sh', '-c', 'grep -E "^Cap(Eff|Prm|Bnd|Inh|Amb)" /proc/self/status']);
    const caps = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
    const expected = DEFAULT_CAPABILITIES.reduce((mask, c) => mask | (1n << BigInt(CAPABILITY_BITS[c]!)), 0n);
    expect(BigInt(`0x${caps.CapEff}`)).toBe(expected);
    expect(BigInt(`0x${caps.CapBnd}`)).toBe(expected);
    expect(BigInt(`0x${caps.CapInh}`)).toBe(0n);
    expect(expected.toString(16)).toBe('a80425fb');
  });

  it('runs under seccomp: namespaces, keyctl, AF_ALG and AF_VSOCK are refused', async () => {
    const r = await runContainer(t, [
      'sh',
      '-c',
      'grep Seccomp: /proc/self/status; probe unshare-user; probe keyctl; probe socket 38; probe socket 40; probe socket 0x100000028; probe socket 1; unshare -U true; echo unshare=$?',
    ]);
    expect(r.stdout).toContain('Seccomp:\t2');
    expect(r.stdout).toContain('unshare=Operation not permitted');
    expect(r.stdout).toContain('keyctl=Operation not permitted');
    expect(r.stdout.match(/socket=Operation not permitted/g)).toHaveLength(3);
    expect(r.stdout).toContain('socket=ok');
    expect(r.stdout).toContain('unshare=1');
  });

  it('masks and write-protects the /proc and /sys paths Docker does', async () => {
    const r = await runContainer(t, ['sh', '-c', 'cat /proc/kcore | head -c 1 | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sysrq-trigger; echo sysrq=$?; touch /sys/x; echo sys=$?; mount | grep " /sys/fs/cgroup " | head -1']);
    const [kcore, firmware, sysrq, sys] = r.stdout.trim().split('\n');
    expect(kcore!.trim()).toBe('0');
    expect(firmware!.trim()).toBe('0');
    expect(sysrq).toBe('sysrq=1');
    expect(sys).toBe('sys=1');
  });

  it.each([
    [{ Privileged: true }, /--privileged is not allowed/],
    [{ CapAdd: ['SYS_ADMIN'] }, /--cap-add SYS_ADMIN is not allowed/],
    [{ PidMode: 'host' }, /--pid=host is not allowed/],
    [{ IpcMode: 'host' }, /--ipc=host is not allowed/],
    [{ NetworkMode: 'host' }, /--network=host is not allowed/],
    [{ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, /--device is not allowed/],
    [{ Binds: ['/:/host'] }, /bind mount of \/ is not allowed/],
    [{ Binds: ['/etc:/data:ro'] }, /bind mount of \/etc is not allowed/],
    [{ SecurityOpt: ['seccomp=unconfined'] }, /--security-opt seccomp=unconfined is not allowed/],
  ])('refuses %j with FORBIDDEN', async (hostConfig, message) => {
    const before = t.rt.list().length;
    const err = await t.rt.create({ image: t.image, config: { Cmd: ['true'] }, hostConfig }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(message) });
    expect(t.rt.list()).toHaveLength(before);
  });

  it('refuses a working directory under /proc, also through a symlink the container planted', async () => {
    await expect(t.rt.create({ image: t.image, config: { Cmd: ['true'], WorkingDir: '/proc/self/fd/3' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sh', '-c', 'ln -s /proc/self/fd /tmp/fds; touch /tmp/planted; sleep 100'] } });
    await t.rt.start(Id);
    await waitForExec(t, Id, ['test', '-e', '/tmp/planted']);
    await expect(t.rt.exec(Id, { cmd: ['pwd'], workdir: '/tmp/fds' })).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('inside /proc') });
    await t.rt.remove(Id, { force: true });
  });

  it('resolves users inside the rootfs even when /etc/passwd is a symlink pointing at the host', async () => {
    const plant = 'rm /etc/passwd; ln -s ../../../../../../../etc/passwd /etc/passwd; touch /tmp/planted; sleep 100';
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sh', '-c', plant] } });
    await t.rt.start(Id);
    await waitForExec(t, Id, ['test', '-e', '/tmp/planted']);
    // The host has a "daemon" user; the container (whose passwd link resolves to itself) has none.
    await expect(t.rt.exec(Id, { cmd: ['id'], user: 'daemon' })).rejects.toThrow('unable to find user daemon: no matching entries in passwd file');
    await t.rt.remove(Id, { force: true });
  });
});

/** Retry a probe command in the container until it exits 0. */
async function waitForExec(t: TestRuntime, id: string, cmd: string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const p = await t.rt.exec(id, { cmd });
    if ((await p.exited).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${cmd.join(' ')} never succeeded`);
}
