import { describe, expect, it } from 'vitest';
import { entrypointAndArgs, mergeConfig, processEnv, replaceOrAppendEnv } from '../../runtime/container/command.ts';
import { rfc3339Nano } from '../../runtime/container/json-log.ts';
import { checkHostConfig } from '../../runtime/container/policy.ts';
import { defaultSeccompProfile } from '../../runtime/container/seccomp.ts';
import { buildSpec } from '../../runtime/container/spec.ts';
import { DEFAULT_LIMITS } from '../../runtime/container/types.ts';
import { parseGroup, parsePasswd, resolveUser } from '../../runtime/container/user.ts';

const argv = (image: { Entrypoint?: string[] | null; Cmd?: string[] | null }, user: { Entrypoint?: string[] | null; Cmd?: string[] | null } = {}) => {
  const { path, args } = entrypointAndArgs(mergeConfig(user, image));
  return [path, ...args];
};

describe('ENTRYPOINT / CMD (builder-facts §1.11)', () => {
  const shellEp = ['/bin/sh', '-c', 'exec_entry p1_entry'];
  const execEp = ['exec_entry', 'p1_entry'];
  const execCmd = ['exec_cmd', 'p1_cmd'];
  const shellCmd = ['/bin/sh', '-c', 'exec_cmd p1_cmd'];
  it('follows the reference table', () => {
    expect(() => argv({})).toThrow('No command specified');
    expect(argv({ Cmd: execCmd })).toEqual(execCmd);
    expect(argv({ Cmd: shellCmd })).toEqual(shellCmd);
    expect(argv({ Entrypoint: shellEp })).toEqual(shellEp);
    expect(argv({ Entrypoint: shellEp, Cmd: execCmd })).toEqual([...shellEp, ...execCmd]);
    expect(argv({ Entrypoint: execEp })).toEqual(execEp);
    expect(argv({ Entrypoint: execEp, Cmd: execCmd })).toEqual([...execEp, ...execCmd]);
    expect(argv({ Entrypoint: execEp, Cmd: shellCmd })).toEqual([...execEp, ...shellCmd]);
  });
  it('lets run arguments replace CMD and --entrypoint drop both', () => {
    expect(argv({ Entrypoint: execEp, Cmd: execCmd }, { Cmd: ['x'] })).toEqual([...execEp, 'x']);
    expect(argv({ Entrypoint: execEp, Cmd: execCmd }, { Entrypoint: ['/bin/sh'], Cmd: ['-c', 'y'] })).toEqual(['/bin/sh', '-c', 'y']);
    expect(argv({ Entrypoint: execEp, Cmd: execCmd }, { Entrypoint: [''], Cmd: ['z'] })).toEqual(['z']);
  });
});

describe('environment', () => {
  it('merges image and request env and puts PATH and HOSTNAME first', () => {
    const merged = mergeConfig({ Env: ['FOO=bar', 'BAZ'] }, { Env: ['PATH=/img/bin', 'FOO=image', 'KEEP=1'] });
    expect(merged.Env).toEqual(['FOO=bar', 'BAZ', 'PATH=/img/bin', 'KEEP=1']);
    expect(processEnv(merged, 'abc', true)).toEqual(['PATH=/img/bin', 'HOSTNAME=abc', 'TERM=xterm', 'FOO=bar', 'KEEP=1']);
    expect(processEnv({}, 'h', false)[0]).toBe('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(replaceOrAppendEnv(['A=1', 'B=2'], ['B', 'C=3', 'A=9'])).toEqual(['A=9', 'C=3']);
  });
});

describe('users', () => {
  const passwd = parsePasswd('root:x:0:0::/root:/bin/sh\nlearner:x:1000:1000::/home/l:/bin/sh\n');
  const groups = parseGroup('root:x:0:\nstaff:x:50:learner\nlearner:x:1000:\n');
  it('resolves names, numbers and groups as runc does', () => {
    expect(resolveUser('', passwd, groups)).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(resolveUser('learner', passwd, groups)).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
    expect(resolveUser('4242:4343', passwd, groups)).toEqual({ uid: 4242, gid: 4343, additionalGids: [4343] });
    expect(resolveUser('learner:staff', passwd, groups)).toEqual({ uid: 1000, gid: 50, additionalGids: [50] });
    expect(() => resolveUser('nobody', passwd, groups)).toThrow('unable to find user nobody: no matching entries in passwd file');
    expect(() => resolveUser('0:wheel', passwd, groups)).toThrow('unable to find group wheel: no matching entries in group file');
  });
});

describe('OCI spec', () => {
  it('applies defaults and refuses what escapes', () => {
    const host = checkHostConfig({}, DEFAULT_LIMITS, { roots: [] });
    expect(host.resources).toEqual({ memory: DEFAULT_LIMITS.defaultMemory, memorySwap: DEFAULT_LIMITS.defaultMemory, pids: DEFAULT_LIMITS.defaultPids });
    expect(host.capabilities).toHaveLength(14);
    expect(checkHostConfig({ CapDrop: ['NET_RAW'], CapAdd: ['chown'] }, DEFAULT_LIMITS, { roots: [] }).capabilities).not.toContain('CAP_NET_RAW');
    expect(() => checkHostConfig({ CapAdd: ['ALL'] }, DEFAULT_LIMITS, { roots: [] })).toThrow(/not allowed/);
    expect(() => checkHostConfig({ UTSMode: 'host' }, DEFAULT_LIMITS, { roots: [] })).toThrow(/--uts=host is not allowed/);
  });
  it('builds a config with the namespaces, masks and seccomp profile Docker uses', () => {
    const host = checkHostConfig({ NanoCpus: 1_500_000_000 }, DEFAULT_LIMITS, { roots: [] });
    const spec = buildSpec({
      rootfs: '/r',
      readonlyRootfs: false,
      hostname: 'h',
      args: ['sh'],
      env: [],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      tty: false,
      capabilities: host.capabilities,
      noNewPrivileges: false,
      resources: host.resources,
      binds: [],
      shmSize: 64 << 20,
      cgroupsPath: '/layerlab/x/y',
      netnsPath: '/run/netns/n',
      files: { hosts: '/f/hosts', hostname: '/f/hostname', resolvConf: '/f/resolv' },
    });
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['mount', 'network', 'uts', 'pid', 'ipc']);
    expect(spec.linux.namespaces[1]).toEqual({ type: 'network', path: '/run/netns/n' });
    expect(spec.linux.resources.cpu).toEqual({ quota: 150000, period: 100000 });
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')?.source).toBe('/f/hosts');
    expect(spec.process.capabilities.effective).toEqual(host.capabilities);
  });
  it('has a seccomp allow-list with EPERM by default and no namespace or keyring syscalls', () => {
    const profile = defaultSeccompProfile('x64');
    expect(profile).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'] });
    const allowed = profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names);
    for (const name of ['unshare', 'setns', 'mount', 'keyctl', 'add_key', 'bpf', 'io_uring_setup', 'socket', 'clone', 'personality']) expect(allowed).not.toContain(name);
    const socket = profile.syscalls.filter((r) => r.names.includes('socket'));
    expect(socket.some((r) => r.args?.some((a) => a.value === 38 || a.value === 40))).toBe(false);
  });
});

describe('json-file time format', () => {
  it('is RFC 3339 with trailing zeros of the fraction dropped', () => {
    expect(rfc3339Nano(Date.UTC(2026, 10, 22, 21, 45, 48) * 1000 + 505332)).toBe('2026-11-22T21:45:48.505332Z');
    expect(rfc3339Nano(Date.UTC(2026, 10, 22, 21, 45, 48) * 1000 + 500000)).toBe('2026-11-22T21:45:48.5Z');
    expect(rfc3339Nano(Date.UTC(2026, 10, 22, 21, 45, 48) * 1000)).toBe('2026-11-22T21:45:48Z');
  });
});
