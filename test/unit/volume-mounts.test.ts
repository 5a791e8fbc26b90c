import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { volumeFilter } from '../../runtime/volume/filters.ts';
import { mountRequests, mountsJson } from '../../runtime/volume/mount-points.ts';
import { checkVolumeName } from '../../runtime/volume/store.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-mounts-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('mount requests (dockerd registerMountPoints)', () => {
  it('makes anonymous volumes for VOLUME and -v /path, named ones and binds from Binds and --mount', () => {
    const reqs = mountRequests(
      { Binds: ['data:/data:ro', `${root}:/ws`], Mounts: [{ Type: 'volume', Target: '/m' }, { Type: 'bind', Source: root, Target: '/b', ReadOnly: true }] },
      ['/anon'],
      ['/image-vol', '/data'],
      { roots: [root] },
    );
    expect(reqs).toEqual([
      { kind: 'volume', destination: '/image-vol', rw: true, mode: '' },
      { kind: 'volume', name: 'data', destination: '/data', rw: false, mode: 'ro' },
      { kind: 'volume', destination: '/anon', rw: true, mode: '' },
      { kind: 'bind', source: root, destination: '/ws', rw: true, mode: '' },
      { kind: 'volume', destination: '/m', rw: true, mode: '' },
      { kind: 'bind', source: root, destination: '/b', rw: false, mode: '' },
    ]);
    expect(mountRequests({ Binds: ['named:/v'] }, [], [], { roots: [] })).toEqual([{ kind: 'volume', name: 'named', destination: '/v', rw: true, mode: 'z' }]);
  });

  it('refuses duplicates, bad names, kernel destinations and host paths outside the allowed roots', () => {
    expect(() => mountRequests({ Binds: ['a1:/x', 'b1:/x'] }, [], [], { roots: [] })).toThrow('Duplicate mount point: /x');
    expect(() => mountRequests({ Binds: ['../etc:/x'] }, [], [], { roots: [] })).toThrow('includes invalid characters for a local volume name');
    for (const dest of ['/', '/proc', '/sys/fs', '/dev/x']) expect(() => mountRequests({ Binds: [`v1:${dest}`] }, [], [], { roots: [] })).toThrow('is not allowed in layerlab');
    expect(() => mountRequests({ Binds: ['/etc:/x'] }, [], [], { roots: [root] })).toThrow('bind mount of /etc is not allowed in layerlab');
    expect(() => mountRequests({ Mounts: [{ Type: 'tmpfs', Target: '/t' }] }, [], [], { roots: [] })).toThrow();
  });

  it('shows Mounts in inspect\'s shape', () => {
    const mounts = mountsJson({
      MountPoints: [
        { Type: 'volume', Name: 'v1', Source: '/s', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
        { Type: 'bind', Source: root, Destination: '/ws', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      ],
    });
    expect(mounts.map((m) => Object.keys(m))).toEqual([
      ['Type', 'Name', 'Source', 'Destination', 'Driver', 'Mode', 'RW', 'Propagation'],
      ['Type', 'Source', 'Destination', 'Mode', 'RW', 'Propagation'],
    ]);
  });
});

describe('volume names and filters', () => {
  it('accepts dockerd\'s names only', () => {
    for (const ok of ['ab', 'my_vol.1', 'A-b']) expect(() => checkVolumeName(ok)).not.toThrow();
    for (const bad of ['a', '_x', 'a/b', '..', 'a b', '']) expect(() => checkVolumeName(bad)).toThrow();
  });

  it('filters by name substring, dangling, label and driver', () => {
    const used = new Set(['inuse']);
    const f = (filters: Record<string, string[]>) => volumeFilter(new Map(Object.entries(filters)), (n) => used.has(n));
    expect(f({ name: ['use'] })('inuse', {})).toBe(true);
    expect(f({ name: ['zzz'] })('inuse', {})).toBe(false);
    expect(f({ dangling: ['true'] })('inuse', {})).toBe(false);
    expect(f({ dangling: ['true'] })('free', {})).toBe(true);
    expect(f({ dangling: ['false'] })('inuse', {})).toBe(true);
    expect(f({ label: ['k=v'] })('x1', { k: 'v' })).toBe(true);
    expect(f({ label: ['k=w'] })('x1', { k: 'v' })).toBe(false);
    expect(f({ label: ['k'] })('x1', { k: 'v' })).toBe(true);
    expect(f({ driver: ['nfs'] })('x1', {})).toBe(false);
    expect(() => f({ bogus: ['1'] })).toThrow("invalid filter 'bogus'");
  });
});
