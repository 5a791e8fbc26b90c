import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearViews } from '../../runtime/builder/exec/runc-executor.ts';
import { mountsUnder } from '../../runtime/container/mountinfo.ts';
import { run } from '../../runtime/util/exec.ts';

describe('builder views left mounted by a stopped engine', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-views-'));
  afterAll(async () => {
    for (const m of await mountsUnder(root)) await run('umount', ['--lazy', m], { timeoutMs: 10_000 });
    await fs.rm(root, { recursive: true, force: true });
  });

  it('are unmounted and removed when the build service opens, and the lower dirs are untouched', async () => {
    const lower = [path.join(root, 'l1'), path.join(root, 'l2')];
    for (const d of lower) await fs.mkdir(d);
    await fs.writeFile(path.join(lower[0]!, 'keep'), 'layer content\n');
    const viewDir = path.join(root, 'views');
    const target = path.join(viewDir, 'view-x', 'root');
    await fs.mkdir(target, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower.join(':')}`, target], { timeoutMs: 10_000 });
    expect(await mountsUnder(viewDir)).toEqual([target]);
    await clearViews(viewDir);
    expect(await mountsUnder(viewDir)).toEqual([]);
    expect(await fs.readdir(viewDir)).toEqual([]);
    expect(await fs.readFile(path.join(lower[0]!, 'keep'), 'utf8')).toBe('layer content\n');
  });
});
