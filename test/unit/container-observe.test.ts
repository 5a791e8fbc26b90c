import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goFileMode, release, RootFs } from '../../runtime/container-fs/root-fd.ts';
import { EventBus } from '../../runtime/events.ts';
import { parsePs } from '../../runtime/observe/top.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-observe-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docker top parsing', () => {
  it('keeps only the container\'s pids and the spaces of the last column', () => {
    const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 21:47 ? 00:00:00 sleep 2\nroot 11 1 0 21:47 ? 00:00:00 /usr/sbin/sshd -D\n';
    expect(parsePs(out, new Set(['10']))).toEqual({ Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '10', '1', '0', '21:47', '?', '00:00:00', 'sleep 2']] });
    expect(() => parsePs('USER COMMAND\nroot x\n', new Set())).toThrow("Couldn't find PID field");
  });
});

describe('descriptor-only root access', () => {
  it('resolves links inside the root and never above it', async () => {
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/passwd'), 'inside\n');
    symlinkSync('/', path.join(root, 'up'));
    symlinkSync('../../../../etc', path.join(root, 'climb'));
    const rootfs = await RootFs.open(root);
    try {
      for (const p of ['/up/etc/passwd', '/climb/passwd', '/../../etc/passwd', '/etc/../../etc/passwd']) {
        const node = await rootfs.resolve(p, { followLast: true });
        expect(node?.path, p).toBe('/etc/passwd');
        const handle = await rootfs.openRead(node!);
        expect(await handle.readFile('utf8')).toBe('inside\n');
        await handle.close();
        await release(node!);
      }
      const link = await rootfs.resolve('/up', { followLast: false });
      expect(link?.stat.isSymbolicLink()).toBe(true);
      await release(link!);
      expect(await rootfs.resolve('/etc/passwd/x', { followLast: true })).toBeUndefined();
      expect(await rootfs.resolve('/missing', { followLast: true })).toBeUndefined();
    } finally {
      await rootfs.close();
    }
  });

  it('gives Go FileMode bits', () => {
    expect(goFileMode(lstatSync(dir)) & 2 ** 31).not.toBe(0);
    expect(goFileMode(lstatSync(path.join(dir, 'root/up')))).toBe(((1 << 27) | 0o777) >>> 0);
  });
});

describe('event bus', () => {
  it('keeps recent events, follows live ones and shapes them like dockerd', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const stop = bus.subscribe((e) => seen.push(e.Action));
    bus.emit('container', 'start', 'abc', { image: 'busybox', name: 'x1' });
    stop();
    bus.emit('volume', 'create', 'v1');
    expect(seen).toEqual(['start']);
    const [c, v] = bus.recent();
    expect(Object.keys(c!)).toEqual(['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    expect(Object.keys(v!)).toEqual(['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    expect(Math.floor(c!.timeNano / 1e9)).toBe(c!.time);
  });
});
