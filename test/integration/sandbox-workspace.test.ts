import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdBindSources } from '../../runtime/container/bind-source.ts';
import { openSandbox, type TestSandbox } from './sandbox-helpers.ts';

/**
 * Binds from the learner's workspace: the CLI names /workspace/… (what the shell sees), the engine mounts
 * the sandbox's host directory, and nothing the learner plants there (links, `..`) reaches further.
 */
describe('workspace binds', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await openSandbox('ws');
    await fs.mkdir(path.join(sb.workspace, 'site', 'sub'), { recursive: true });
    await fs.writeFile(path.join(sb.workspace, 'site', 'x'), 'from the workspace\n');
  }, 60_000);
  afterAll(async () => {
    await sb?.destroy();
  });

  it('maps /workspace/… to the sandbox workspace, read-write and read-only', async () => {
    const r = await sb.docker(['run', '--rm', '-v', '/workspace/site:/data', 'busybox', 'sh', '-c', 'cat /data/x && echo made > /data/sub/new']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from the workspace\n');
    expect(await fs.readFile(path.join(sb.workspace, 'site', 'sub', 'new'), 'utf8')).toBe('made\n');
    const ro = await sb.docker(['run', '--rm', '--mount', 'type=bind,source=/workspace/site/x,target=/x,readonly', 'busybox', 'sh', '-c', 'cat /x; echo no >> /x']);
    expect(ro.stdout).toBe('from the workspace\n');
    expect(ro.stderr).toContain('Read-only file system');
  });

  it('shows the source as the learner named it', async () => {
    const id = (await sb.docker(['create', '-v', '/workspace/site:/data', 'busybox', 'true'])).stdout.trim();
    const mounts = JSON.parse((await sb.docker(['inspect', '-f', '{{json .Mounts}}', id])).stdout) as Array<{ Source: string }>;
    expect(mounts.map((m) => m.Source)).toEqual(['/workspace/site']);
    await sb.docker(['rm', id]);
  });

  it('refuses a symbolic link, even one that stays inside', async () => {
    await fs.symlink('/', path.join(sb.workspace, 'root'));
    await fs.symlink('site', path.join(sb.workspace, 'inside'));
    for (const source of ['/workspace/root', '/workspace/root/etc', '/workspace/inside']) {
      const r = await sb.docker(['run', '--rm', '-v', `${source}:/data`, 'busybox', 'ls', '/data']);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`bind mount of ${source} is not allowed in layerlab`);
      expect(r.stderr).toContain('is a symbolic link');
    }
  });

  it('refuses .. and paths outside the workspace', async () => {
    const up = await sb.docker(['run', '--rm', '-v', '/workspace/../etc:/data', 'busybox', 'ls', '/data']);
    expect(up.code).toBe(125);
    expect(up.stderr).toContain('bind mount of /workspace/../etc is not allowed in layerlab: the path may not contain ".."');
    const out = await sb.docker(['run', '--rm', '-v', '/etc:/data', 'busybox', 'ls', '/data']);
    expect(out.stderr).toContain('bind mount of /etc is not allowed in layerlab: only paths under /workspace can be mounted');
    const host = await sb.docker(['run', '--rm', '-v', `${sb.workspace}:/data`, 'busybox', 'ls', '/data']);
    expect(host.stderr).toContain('can be mounted');
  });

  it("gives Docker's message for a --mount source that does not exist", async () => {
    const r = await sb.docker(['run', '--rm', '--mount', 'type=bind,source=/workspace/nope,target=/data', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('invalid mount config for type "bind": bind source path does not exist: /workspace/nope');
  });

  it('creates a missing -v source directory as dockerd does, never through a link', async () => {
    const r = await sb.docker(['run', '--rm', '-v', '/workspace/made/here:/data', 'busybox', 'sh', '-c', 'echo hi > /data/f']);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(sb.workspace, 'made/here/f'), 'utf8')).toBe('hi\n');
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'sandbox-workspace-outside-'));
    await fs.symlink(outside, path.join(sb.workspace, 'out'));
    const through = await sb.docker(['run', '--rm', '-v', '/workspace/out/new:/data', 'busybox', 'true']);
    expect(through.stderr).toContain('out is a symbolic link');
    expect(await fs.readdir(outside)).toEqual([]);
    await fs.rm(outside, { recursive: true });
    await fs.unlink(path.join(sb.workspace, 'out'));
  });

  it('checks again at start: a directory swapped for a link after create is refused', async () => {
    await fs.mkdir(path.join(sb.workspace, 'swap'));
    const id = (await sb.docker(['create', '-v', '/workspace/swap:/data', 'busybox', 'ls', '/data'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await fs.rmdir(path.join(sb.workspace, 'swap'));
    await fs.symlink('/etc', path.join(sb.workspace, 'swap'));
    const r = await sb.docker(['start', '-a', id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is a symbolic link');
    await sb.docker(['rm', id]);
  });

  it('pins what was checked: a swap after the check does not change what runc mounts', async () => {
    const dir = path.join(sb.workspace, 'pinned');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'mine'), 'kept');
    const staging = path.join(sb.base, 'staging');
    const held = await holdBindSources(['/workspace/pinned'], { roots: [], workspace: { hostPath: sb.workspace, visiblePath: '/workspace' } }, staging);
    try {
      await fs.rename(dir, `${dir}.old`);
      await fs.symlink('/etc', dir);
      expect(await fs.readdir(held.sources[0]!)).toEqual(['mine']);
    } finally {
      await held.release();
    }
    expect(await fs.readFile('/proc/self/mountinfo', 'utf8')).not.toContain(staging);
  });
});
