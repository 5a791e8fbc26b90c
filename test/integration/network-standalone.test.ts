import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshot, tempStateDir } from './network-helpers.ts';

/**
 * The standalone engine's case: the host netns is the engine process's own. The engine-side code runs in
 * a child started under `unshare --net`, so "its own netns" is a throwaway one and the machine's is
 * compared before and after.
 */
describe('container networking: host netns = the engine process own', () => {
  const stateDir = tempStateDir('standalone');

  afterAll(async () => {
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('publishes on its own localhost and cleans up', () => {
    const before = snapshot(undefined);
    const child = path.join(import.meta.dirname, 'network-standalone-child.ts');
    const r = spawnSync('unshare', ['--net', '--', process.execPath, '--import', 'tsx', child, stateDir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ ip: '172.17.0.2', hostPort: 49153, published: 'web:172.17.0.1', after: 'ERR:ECONNREFUSED', leftover: [] });
    expect(snapshot(undefined)).toEqual(before);
  });
});
