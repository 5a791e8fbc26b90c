import { mkdtempSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../helpers/engine.ts';

/** Volumes and bind mounts through Debian's docker 20.10 CLI against a real engine on real runc. */
describe('docker volume and -v/--mount through the CLI', () => {
  let engine: TestEngine;
  let allowed: string;
  let outside: string;

  beforeAll(async () => {
    allowed = mkdtempSync(path.join(os.tmpdir(), 'layerlab-vol-allowed-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'layerlab-vol-outside-'));
    writeFileSync(path.join(allowed, 'hello.txt'), 'from the workspace\n');
    engine = await startEngine('cli-volumes', { extraArgs: ['--allow-bind', allowed] });
    const build = engine.docker(['build', '-q', '-t', 'volimg', '-'], { input: 'FROM busybox\nRUN mkdir /seed && echo seeded > /seed/file\nVOLUME /seed\n' });
    expect(build.stderr).toBe('');
  });

  afterAll(async () => {
    await engine?.stop();
    await fs.rm(allowed, { recursive: true, force: true });
    await fs.rm(outside, { recursive: true, force: true });
  });

  const ok = (args: string[], input?: string) => {
    const r = engine.docker(args, input === undefined ? {} : { input });
    expect(r.stderr, `docker ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it('creates, lists, inspects and removes a named volume with Docker\'s output', () => {
    expect(ok(['volume', 'create', 'vol1'])).toBe('vol1\n');
    expect(ok(['volume', 'create', 'vol1'])).toBe('vol1\n');
    expect(ok(['volume', 'ls'])).toMatch(/^DRIVER\s+VOLUME NAME\nlocal\s+vol1\n$/);
    expect(ok(['volume', 'ls', '-q', '--filter', 'name=vol'])).toBe('vol1\n');
    const [v] = JSON.parse(ok(['volume', 'inspect', 'vol1'])) as Array<Record<string, unknown>>;
    expect(Object.keys(v!)).toEqual(['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    expect(v).toMatchObject({ Driver: 'local', Name: 'vol1', Scope: 'local', Labels: {}, Options: {} });
    expect(v!.Mountpoint).toMatch(/\/volumes\/vol1\/_data$/);
    expect(ok(['volume', 'rm', 'vol1'])).toBe('vol1\n');
    const gone = engine.docker(['volume', 'inspect', 'vol1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No such volume: vol1');
    const rm = engine.docker(['volume', 'rm', 'vol1']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('No such volume: vol1');
    const bad = engine.docker(['volume', 'create', 'a/b']);
    expect(bad.stderr).toContain('includes invalid characters for a local volume name');
  });

  it('keeps a named volume\'s data across containers and refuses to remove it while used', () => {
    ok(['run', '--name', 'writer', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f']);
    expect(ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'cat', '/data/f'])).toBe('persisted\n');
    const inUse = engine.docker(['volume', 'rm', 'data1']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/remove data1: volume is in use - \[[0-9a-f]{64}\]/);
    ok(['rm', 'writer']);
    expect(ok(['volume', 'rm', 'data1'])).toBe('data1\n');
  });

  it('fills a new named volume from the image, and makes an anonymous volume for VOLUME that --rm removes', () => {
    expect(ok(['run', '--rm', '-v', 'fresh:/seed', 'volimg', 'cat', '/seed/file'])).toBe('seeded\n');
    const before = new Set(ok(['volume', 'ls', '-q']).split('\n').filter(Boolean));
    ok(['run', '--name', 'anon', 'volimg', 'sh', '-c', 'echo more > /seed/more']);
    const made = ok(['volume', 'ls', '-q']).split('\n').filter((n) => n && !before.has(n));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^[0-9a-f]{64}$/);
    const df = ok(['system', 'df', '-v']);
    expect(df).toMatch(new RegExp(`${made[0]!}\\s+1\\s+(\\d+B|[\\d.]+kB)`));
    expect(ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).toContain('fresh');
    expect(ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).not.toContain(made[0]!);
    ok(['rm', 'anon']);
    const withRm = new Set(ok(['volume', 'ls', '-q']).split('\n').filter(Boolean));
    ok(['run', '--rm', 'volimg', 'cat', '/seed/file']);
    expect(new Set(ok(['volume', 'ls', '-q']).split('\n').filter(Boolean))).toEqual(withRm);
    const pruned = ok(['volume', 'prune', '-f']);
    expect(pruned).toContain('fresh');
    expect(pruned).toContain(made[0]!);
    expect(ok(['volume', 'ls', '-q'])).toBe('');
  });

  it('copies into a stopped container\'s volume, where the container and the next one find it', () => {
    const file = path.join(outside, 'in.txt');
    writeFileSync(file, 'via cp\n');
    ok(['create', '--name', 'cpvol', '-v', 'cpdata:/data', '-v', `${allowed}:/ro:ro`, 'busybox', 'cat', '/data/in.txt']);
    ok(['cp', file, 'cpvol:/data/']);
    const ro = engine.docker(['cp', file, 'cpvol:/ro/']);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('mounted volume is marked read-only');
    expect(ok(['start', '-a', 'cpvol'])).toBe('via cp\n');
    expect(ok(['run', '--rm', '-v', 'cpdata:/d', 'busybox', 'cat', '/d/in.txt'])).toBe('via cp\n');
    expect(ok(['cp', 'cpvol:/ro/hello.txt', '-'])).toContain('from the workspace\n');
    ok(['rm', 'cpvol']);
    ok(['volume', 'rm', 'cpdata']);
  });

  it('lists volumes and binds in inspect\'s Mounts, and rm -v removes anonymous volumes', () => {
    ok(['create', '--name', 'mounts', '-v', 'named1:/vol', '-v', '/anon', '-v', `${allowed}:/ws:ro`, 'busybox']);
    const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'mounts'])) as Array<Record<string, unknown>>;
    const byDest = Object.fromEntries(mounts.map((m) => [m.Destination, m]));
    expect(byDest['/vol']).toEqual({ Type: 'volume', Name: 'named1', Source: expect.stringMatching(/volumes\/named1\/_data$/), Destination: '/vol', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    expect(byDest['/ws']).toEqual({ Type: 'bind', Source: allowed, Destination: '/ws', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    expect(byDest['/anon']).toMatchObject({ Type: 'volume', Name: expect.stringMatching(/^[0-9a-f]{64}$/), Mode: '', RW: true });
    ok(['rm', '-v', 'mounts']);
    expect(ok(['volume', 'ls', '-q'])).toBe('named1\n');
    ok(['volume', 'rm', 'named1']);
  });

  it('binds a directory under an allowed root (read-only too) and refuses one outside', () => {
    expect(ok(['run', '--rm', '-v', `${allowed}:/ws:ro`, 'busybox', 'cat', '/ws/hello.txt'])).toBe('from the workspace\n');
    const ro = engine.docker(['run', '--rm', '-v', `${allowed}:/ws:ro`, 'busybox', 'touch', '/ws/x']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');
    ok(['run', '--rm', '--mount', `type=bind,source=${allowed},target=/ws`, 'busybox', 'sh', '-c', 'echo back > /ws/back.txt']);
    expect(readFileSync(path.join(allowed, 'back.txt'), 'utf8')).toBe('back\n');
    for (const args of [['-v', `${outside}:/x`], ['--mount', `type=bind,source=${outside},target=/x`], ['-v', '/etc:/x']]) {
      const refused = engine.docker(['run', '--rm', ...args, 'busybox', 'true']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('is not allowed in layerlab');
    }
  });
});

