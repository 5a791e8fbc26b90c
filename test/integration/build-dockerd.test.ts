import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type DockerResult, type TestEngine } from '../helpers/engine.ts';
import { runningIn, writeContext } from './build-helpers.ts';
import { runScenarios, SCENARIOS } from './build-scenarios.ts';
import { findDockerd, type Dockerd } from '../helpers/dockerd.ts';

type Docker = (args: string[]) => DockerResult;

const dockerd = await findDockerd();
if (!dockerd) console.warn('build-dockerd.test.ts skipped: no dockerd could be started (apt-get install docker.io to compare builds with a real Docker)');

/** Output with the parts that differ between any two builds (IDs, the context size) replaced. */
function normalise(text: string): string {
  return text.replace(/\b[0-9a-f]{12}\b/g, '<id>').replace(/Sending build context to Docker daemon[^\n]*\n/, '');
}

describe.skipIf(!dockerd)('the same builds on layerlab and on a real dockerd (classic builder)', () => {
  let engine: TestEngine;
  let real: Dockerd;
  let work: string;
  const both = (fn: (docker: Docker, side: string) => Promise<DockerResult | void>) => Promise.all([fn((a) => engine.docker(a), 'layerlab'), fn((a) => real.docker(a), 'dockerd')]);

  beforeAll(async () => {
    real = dockerd!;
    engine = await startEngine('build-dockerd');
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-build-dockerd-'));
    // The same base on both sides: the catalog's busybox, saved from layerlab and loaded into dockerd.
    const archive = path.join(work, 'busybox.tar');
    expect(engine.docker(['save', '-o', archive, 'busybox']).code).toBe(0);
    const loaded = real.docker(['load', '-i', archive]);
    expect(loaded.code, loaded.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await dockerd?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('every cache scenario gives the same hit/miss pattern, and the same history', async () => {
    const tag = `layerlab-cmp-${process.pid}:1`;
    const ours = await runScenarios((a) => engine.docker(a), path.join(work, 'ours'), tag);
    const theirs = await runScenarios((a) => real.docker(a), path.join(work, 'theirs'), tag);
    for (const s of SCENARIOS) {
      expect({ scenario: s.name, pattern: ours.get(s.name)!.pattern }).toEqual({ scenario: s.name, pattern: theirs.get(s.name)!.pattern });
      expect(normalise(ours.get(s.name)!.result.stdout)).toBe(normalise(theirs.get(s.name)!.result.stdout));
    }
    const history = (docker: Docker) => docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', tag]).stdout;
    expect(history((a) => engine.docker(a))).toBe(history((a) => real.docker(a)));
    real.docker(['rmi', tag]);
  }, 240_000);

  it('plain and hostile builds read the same: labels, WORKDIR/COPY/RUN, a failing RUN, a symlink out of the context, ../ in COPY, ADD of a climbing tar (extracted inside)', async () => {
    const cases: Array<{ name: string; files: Record<string, string>; setup?: (dir: string) => Promise<void>; flags?: string[]; stdoutDiffers?: boolean }> = [
      { name: 'labels', files: { Dockerfile: 'FROM busybox\nENV A=1\n' }, flags: ['--label', 'lesson=one', '--label', 'b=$HOME x'] },
      { name: 'workdir-copy-run', files: { Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY . .\nRUN stat -c "%n %s %a %u:%g" * && pwd\nCMD ["sh"]\n', 'a.txt': 'a\n' } },
      { name: 'run', files: { Dockerfile: 'FROM busybox\nRUN echo bad >&2 && exit 3\n' } },
      { name: 'no-such-command', files: { Dockerfile: 'FROM busybox\nRUN ["/nonexistent", "x"]\n' } },
      // dockerd creates an image-less container first (` ---> Running in`); layerlab's containers need an image.
      { name: 'run-on-scratch', files: { Dockerfile: 'FROM scratch\nRUN echo hi\n' }, stdoutDiffers: true },
      { name: 'link', files: { Dockerfile: 'FROM busybox\nCOPY link /x\n' }, setup: (d) => fs.symlink('/etc/hostname', path.join(d, 'link')) },
      { name: 'dotdot', files: { Dockerfile: 'FROM busybox\nCOPY ../../etc/passwd /x\n' } },
      { name: 'addtar', files: { Dockerfile: 'FROM busybox\nADD evil.tar /app/\nRUN find /app /escape 2>&1; true\n', escape: 'x\n' }, setup: evilTar },
    ];
    const leftIds: string[] = [];
    for (const c of cases) {
      const dir = path.join(work, `fail-${c.name}`);
      await writeContext(dir, c.files);
      await c.setup?.(dir);
      const [ours, theirs] = (await both(async (docker) => docker(['build', ...(c.flags ?? []), dir]))) as DockerResult[];
      expect({ case: c.name, code: ours!.code, stderr: ours!.stderr }).toEqual({ case: c.name, code: theirs!.code, stderr: theirs!.stderr });
      leftIds.push(...runningIn(theirs!.stdout));
      if (!c.stdoutDiffers) expect(normalise(ours!.stdout)).toBe(normalise(theirs!.stdout));
    }
    // Both keep the container whose command could not start (dockerd shows it Created, layerlab's runtime Exited (127)).
    const leftovers = (docker: Docker) => docker(['ps', '-a', '--format', '{{.Command}}']).stdout;
    expect(leftovers((a) => engine.docker(a))).toContain('"/nonexistent x"');
    expect(leftovers((a) => real.docker(a))).toContain('"/nonexistent x"');
    // A shared comparison dockerd keeps running after this test: take away the containers these builds left.
    for (const id of leftIds) real.docker(['rm', '-f', id]);
  }, 120_000);
});

/** A tar whose one entry is `../../escape` (GNU tar keeps such names with -P). */
async function evilTar(dir: string): Promise<void> {
  const made = spawnSync('tar', ['-cf', path.join(dir, 'evil.tar'), '-P', '--transform', 's|^escape$|../../escape|', '-C', dir, 'escape']);
  if (made.status !== 0) throw new Error(made.stderr.toString());
}
