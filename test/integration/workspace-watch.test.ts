import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceFiles } from '../../server/workspace/files.ts';

/** WorkspaceFiles.watch: changes made by other processes (the learner's terminal) reach the page. */
const base = '/tmp/workspace-watch-test';
const ws = path.join(base, 'ws');
const outside = path.join(base, 'outside');

function sh(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkspaceFiles.watch', () => {
  const seen: string[][] = [];
  let stop: () => void;

  /** Wait (bounded) until some batch names `p`. */
  async function waitFor(p: string, ms = 2000): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < ms) {
      if (seen.some((batch) => batch.includes(p))) return Date.now() - start;
      await sleep(10);
    }
    throw new Error(`no change reported for ${p} within ${ms} ms; saw ${JSON.stringify(seen)}`);
  }

  beforeAll(async () => {
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
    sh(['ln', '-s', outside, path.join(ws, 'out')]);
    stop = new WorkspaceFiles(ws).watch((paths) => seen.push(paths));
    await sleep(200);
  });

  afterAll(() => {
    stop?.();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('reports a file another process writes, within a bounded wait', async () => {
    const started = Date.now();
    sh(['sh', '-c', `echo hello > ${path.join(ws, 'src', 'app.txt')}`]);
    await waitFor('src/app.txt');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('watches a directory created after it started, and batches', async () => {
    sh(['mkdir', '-p', path.join(ws, 'new/deeper')]);
    await waitFor('new');
    await sleep(200); // the batch that names `new` also rescans the tree
    seen.length = 0;
    sh(['touch', path.join(ws, 'new/deeper/a'), path.join(ws, 'new/deeper/b')]);
    await waitFor('new/deeper/b');
    expect(seen.flat().filter((p) => p === 'new/deeper/a').length).toBeGreaterThan(0);
    expect(seen.length).toBe(1);
  });

  it('does not watch outside through a link', async () => {
    seen.length = 0;
    sh(['touch', path.join(outside, 'z')]);
    sh(['touch', path.join(ws, 'marker')]);
    await waitFor('marker');
    await sleep(200);
    expect(seen.flat().filter((p) => p === 'out' || p.startsWith('out/'))).toEqual([]);
  });

  it('stops', async () => {
    stop();
    await sleep(50);
    seen.length = 0;
    sh(['touch', path.join(ws, 'after-stop')]);
    await sleep(300);
    expect(seen).toEqual([]);
  });
});
