import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLayer } from '../../runtime/archive/apply-layer.ts';
import { packDirectory } from '../../runtime/archive/pack-dir.ts';
import { readSafeTar } from '../../runtime/archive/tar-reader.ts';
import { makeTree } from '../helpers/images.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-wh-'));
const dirs = { lower: '', upper: '', work: '', merged: '' };
const mounts: string[] = [];

function mountOverlay(lowers: string[], upper: string, work: string, target: string): void {
  const opts = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', opts, target]);
  mounts.push(target);
}

beforeAll(async () => {
  for (const k of Object.keys(dirs) as Array<keyof typeof dirs>) {
    dirs[k] = path.join(root, k);
    await fs.mkdir(dirs[k]);
  }
  await makeTree({ x: 'x', 'd/old': 'old', 'bin/ls': 'ls', keep: 'keep' }, dirs.lower);
  mountOverlay([dirs.lower], dirs.upper, dirs.work, dirs.merged);
  // What a RUN step or a container does: delete, replace a directory, change a file.
  await fs.rm(path.join(dirs.merged, 'x'));
  await fs.rm(path.join(dirs.merged, 'd'), { recursive: true });
  await fs.mkdir(path.join(dirs.merged, 'd'));
  await fs.writeFile(path.join(dirs.merged, 'd/new'), 'new');
  await fs.rm(path.join(dirs.merged, 'bin/ls'));
  await fs.writeFile(path.join(dirs.merged, 'y'), 'mod');
  execFileSync('umount', [dirs.merged]);
  mounts.pop();
});

afterAll(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
  await fs.rm(root, { recursive: true, force: true });
});

describe('whiteouts between overlayfs and OCI layer tars', () => {
  it('turns an overlay upper dir into OCI whiteout entries', async () => {
    const tar = path.join(root, 'upper.tar');
    await pipeline(packDirectory(dirs.upper, { overlayUpper: true }), createWriteStream(tar));
    const names: string[] = [];
    for await (const e of readSafeTar(createReadStream(tar))) names.push(`${e.kind}:${e.path}`);
    expect(names).toEqual(['dir:bin', 'whiteout:bin/ls', 'dir:d', 'opaque:d', 'file:d/new', 'whiteout:x', 'file:y']);
    const listing = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).trim().split('\n');
    // The same entries, in the same order, as Docker 20.10 wrote for this change (builder-facts §4.6).
    expect(listing).toEqual(['bin/', 'bin/.wh.ls', 'd/', 'd/.wh..wh..opq', 'd/new', '.wh.x', 'y']);
  });

  it('applies whiteouts back as overlay whiteouts that hide the lower files', async () => {
    const tar = path.join(root, 'upper2.tar');
    await pipeline(packDirectory(dirs.upper, { overlayUpper: true }), createWriteStream(tar));
    const applied = path.join(root, 'applied');
    await fs.mkdir(applied);
    await applyLayer(createReadStream(tar), applied);
    const wh = await fs.lstat(path.join(applied, 'x'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    const xattr = execFileSync('getfattr', ['-h', '--only-values', '-n', 'trusted.overlay.opaque', path.join(applied, 'd')], { encoding: 'utf8' });
    expect(xattr).toBe('y');
    // Stack it read-only on the original lower and look at the merged view.
    const view = path.join(root, 'view');
    await fs.mkdir(view);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${applied}:${dirs.lower}`, view]);
    mounts.push(view);
    expect((await fs.readdir(view)).sort()).toEqual(['bin', 'd', 'keep', 'y']);
    expect(await fs.readdir(path.join(view, 'd'))).toEqual(['new']);
    expect(await fs.readdir(path.join(view, 'bin'))).toEqual([]);
    execFileSync('umount', [view]);
    mounts.pop();
  });
});
