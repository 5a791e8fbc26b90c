import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildRecord } from '../../runtime/builder/index.ts';
import { DOCKER_20, startEngine, waitFor, type TestEngine } from '../helpers/engine.ts';
import { containersOnDisk, getJson, writeContext } from './build-helpers.ts';

describe('hostile build contexts and cancelled builds through the real CLI', () => {
  let engine: TestEngine;
  let work: string;

  beforeAll(async () => {
    engine = await startEngine('build-hostile');
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-build-hostile-'));
  }, 90_000);

  afterAll(async () => {
    await engine?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  async function build(name: string, files: Record<string, string>, setup?: (dir: string) => Promise<void>) {
    const dir = path.join(work, name);
    await writeContext(dir, files);
    await setup?.(dir);
    return engine.docker(['build', dir]);
  }

  it('a symlink to a host path resolves inside the context, never to the host file', async () => {
    const r = await build('link', { Dockerfile: 'FROM busybox\nCOPY link /x\n' }, (d) => fs.symlink('/etc/hostname', path.join(d, 'link')));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('COPY failed: file not found in build context or excluded by .dockerignore: stat link: file does not exist\n');
    const inside = await build('dirlink', { Dockerfile: 'FROM busybox\nCOPY up/passwd /p\nRUN cat /p\n', 'etc/passwd': 'context copy\n' }, (d) => fs.symlink('../../../../etc', path.join(d, 'up')));
    expect(inside.code, inside.stderr).toBe(0);
    expect(inside.stdout).toContain('\ncontext copy\n');
  });

  it('../ in COPY is refused with the daemon\'s text', async () => {
    const r = await build('dotdot', { Dockerfile: 'FROM busybox\nCOPY ../../etc/passwd /x\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('COPY failed: forbidden path outside the build context: ../../etc/passwd ()\n');
  });

  it('ADD of a tar whose entries climb out extracts them inside the destination, as Docker does', async () => {
    const marker = path.join(os.tmpdir(), `layerlab-escape-${process.pid}`);
    const r = await build('addtar', { Dockerfile: 'FROM busybox\nADD evil.tar /app/\nRUN find /app /b 2>&1; true\n' }, async (d) => {
      await fs.writeFile(path.join(d, 'escape'), 'pwned\n');
      // GNU tar keeps ../ names with -P: the archive a hostile learner would craft.
      const made = spawnSync('tar', ['-cf', path.join(d, 'evil.tar'), '-P', '--transform', `s|^escape$|${path.relative(d, marker)}|`, '--transform', 's|^Dockerfile$|a/../../../b/f|', '-C', d, 'escape', 'Dockerfile']);
      expect(made.status, made.stderr.toString()).toBe(0);
      await fs.rm(path.join(d, 'escape'));
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    for (const line of ['/app', `/app/${path.basename(marker)}`, '/app/b', '/app/b/f', 'find: /b: No such file or directory']) expect(lines).toContain(line);
    await expect(fs.access(marker)).rejects.toThrow();
  });

  it('a client that goes away cancels the build: its RUN container is killed and removed', async () => {
    const dir = path.join(work, 'cancel');
    await writeContext(dir, { Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    const before = await containersOnDisk(engine.stateDir);
    const cli = spawn(DOCKER_20, ['build', '-t', 'cancelled', dir], { env: { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}` } });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('started\n'), 30_000);
    expect((await containersOnDisk(engine.stateDir)).length).toBe(before.length + 1);
    cli.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while ((await containersOnDisk(engine.stateDir)).length !== before.length) {
      if (Date.now() > deadline) throw new Error('the cancelled build left its container');
      await new Promise((r) => setTimeout(r, 100));
    }
    const runc = spawnSync('runc', ['--root', path.join(engine.stateDir, 'engine', 'runc'), 'list', '-q']);
    expect(runc.stdout.toString().trim()).toBe('');
    const list = (await getJson(engine.socket, '/layerlab/builds')).body as BuildRecord[];
    const cancelled = list.find((b) => b.subject === 'docker.io/library/cancelled:latest');
    expect(cancelled?.status).toBe('failed');
    expect(cancelled?.events.at(-1)).toMatchObject({ type: 'build-error', message: 'Build cancelled' });
    expect(engine.docker(['images', '-q', 'cancelled']).stdout).toBe('');
    const after = await build('after', { Dockerfile: 'FROM busybox\nRUN echo still works\n' });
    expect(after.code, after.stderr).toBe(0);
  });
});
