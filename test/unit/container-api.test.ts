import { describe, expect, it } from 'vitest';
import { checkShape, CONFIG_FIELDS, strSlice } from '../../runtime/container-api/body-shape.ts';
import { hostConfigJson } from '../../runtime/container-api/host-config.ts';
import { fixedTime, parseLogTime, parseTail, selectLogs, type LogEntry } from '../../runtime/container-api/logs.ts';
import { commandString, statusString, timeMs } from '../../runtime/container-api/status.ts';
import type { ContainerState } from '../../runtime/container/types.ts';

const ZERO = '0001-01-01T00:00:00Z';
const base: ContainerState = { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO, FinishedAt: ZERO };
const now = Date.parse('2026-11-22T12:00:00Z');

describe('Status strings (dockerd State.String)', () => {
  it('says Created for a container that never ran, even after a failed start', () => {
    expect(statusString(base, now)).toBe('Created');
    expect(statusString({ ...base, Status: 'exited', ExitCode: 127 }, now)).toBe('Created');
  });

  it('says Up, Up (Paused) and Exited with go-units durations', () => {
    const running = { ...base, Status: 'running' as const, Running: true, StartedAt: '2026-11-22T11:59:51.123456789Z' };
    expect(statusString(running, now)).toBe('Up 8 seconds');
    expect(statusString({ ...running, Paused: true }, now)).toBe('Up 8 seconds (Paused)');
    const exited = { ...base, Status: 'exited' as const, ExitCode: 3, StartedAt: '2026-11-22T11:50:00Z', FinishedAt: '2026-11-22T11:58:00.5Z' };
    expect(statusString(exited, now)).toBe('Exited (3) About a minute ago');
    expect(statusString({ ...exited, FinishedAt: '2026-11-22T11:59:59.9Z' }, now)).toBe('Exited (3) Less than a second ago');
    expect(statusString({ ...exited, Status: 'removing' }, now)).toBe('Removal In Progress');
  });

  it('reads nanosecond times to the millisecond', () => {
    expect(timeMs('2026-11-22T11:59:51.123456789Z')).toBe(Date.parse('2026-11-22T11:59:51.123Z'));
    expect(timeMs('2026-11-22T11:59:51Z')).toBe(Date.parse('2026-11-22T11:59:51Z'));
  });
});

describe('Command of docker ps', () => {
  it('quotes arguments with spaces and leaves the path alone', () => {
    expect(commandString('/bin/sh', ['-c', 'echo started; sleep 1'])).toBe("/bin/sh -c 'echo started; sleep 1'");
    expect(commandString('httpd', [])).toBe('httpd');
  });
});

describe('HostConfig of inspect', () => {
  it('fills dockerd defaults in Go field order and applies its fix-ups', () => {
    const h = hostConfigJson({ Memory: 64 * 1024 * 1024, PidsLimit: 0, MemorySwappiness: -1, NetworkMode: '', AutoRemove: true });
    expect(Object.keys(h).slice(0, 7)).toEqual(['Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove']);
    expect(h).toMatchObject({ NetworkMode: 'default', LogConfig: { Type: 'json-file', Config: {} }, IpcMode: 'private', CgroupnsMode: 'host', Runtime: 'runc', ShmSize: 67108864 });
    expect(h).toMatchObject({ Memory: 67108864, MemorySwap: 134217728, PidsLimit: null, MemorySwappiness: null, AutoRemove: true });
    expect(Array.isArray(h.MaskedPaths) && (h.MaskedPaths as string[]).includes('/proc/kcore')).toBe(true);
  });
});

describe('logs', () => {
  const entries: LogEntry[] = [
    { stream: 'stdout', log: 'a\n', time: '2026-11-22T10:00:00.1Z' },
    { stream: 'stderr', log: 'b\n', time: '2026-11-22T10:00:01.000000001Z' },
    { stream: 'stdout', log: 'c\n', time: '2026-11-22T10:00:02Z' },
  ];
  const nanos = (t: string) => BigInt(Date.parse(t)) * 1_000_000n;

  it('tails file lines before the stream filter, as dockerd does', () => {
    expect(selectLogs(entries, { stdout: true, stderr: true, tail: 2 }).map((e) => e.log)).toEqual(['b\n', 'c\n']);
    expect(selectLogs(entries, { stdout: true, stderr: false, tail: 2 }).map((e) => e.log)).toEqual(['c\n']);
    expect(selectLogs(entries, { stdout: true, stderr: true, tail: 0 })).toEqual([]);
  });

  it('filters by since and until with nanosecond precision', () => {
    expect(selectLogs(entries, { stdout: true, stderr: true, since: nanos('2026-11-22T10:00:01Z') }).map((e) => e.log)).toEqual(['b\n', 'c\n']);
    expect(selectLogs(entries, { stdout: true, stderr: true, until: nanos('2026-11-22T10:00:01Z') }).map((e) => e.log)).toEqual(['a\n']);
  });

  it('prints fixed-width timestamps and parses the CLI\'s query values', () => {
    expect(fixedTime('2026-11-22T10:00:00.1Z')).toBe('2026-11-22T10:00:00.100000000Z');
    expect(fixedTime('2026-11-22T10:00:02Z')).toBe('2026-11-22T10:00:02.000000000Z');
    expect(parseLogTime('1795383993.000000001', 'since')).toBe(1795383993000000001n);
    expect(parseLogTime('1795383993', 'since')).toBe(1795383993000000000n);
    expect(parseLogTime('', 'since')).toBeUndefined();
    expect(() => parseLogTime('yesterday', 'since')).toThrow('invalid value for since');
    expect(parseTail('all')).toBeUndefined();
    expect(parseTail('5')).toBe(5);
  });
});

describe('request body shapes', () => {
  it('accepts what the CLI sends, including a string for a StrSlice', () => {
    expect(() => checkShape({ Image: 'busybox', Cmd: 'echo hi', Env: ['A=1'], Labels: {}, Tty: false, Volumes: {} }, 'Config', CONFIG_FIELDS)).not.toThrow();
    expect(strSlice('echo hi')).toEqual(['echo hi']);
  });

  it('refuses wrong types with Go\'s wording', () => {
    expect(() => checkShape({ Env: 'A=1' }, 'Config', CONFIG_FIELDS)).toThrow('json: cannot unmarshal string into Go struct field Config.Env of type []string');
    expect(() => checkShape({ Cmd: [1] }, 'Config', CONFIG_FIELDS)).toThrow('Config.Cmd');
    expect(() => checkShape({ Labels: { a: 1 } }, 'Config', CONFIG_FIELDS)).toThrow('map[string]string');
  });
});
