import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayer } from '../../runtime/archive/apply-layer.ts';
import { commitDirectory } from '../../runtime/builder/exec/commit-dir.ts';
import type { Store } from '../../runtime/store/store.ts';
import { sha256 } from '../../runtime/util/digest.ts';
import { tempStore } from '../helpers/store.ts';

/** Every entry under `root` with what extraction decides: type, mode, owner, times, content or link target. */
async function describeTree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const full = path.join(root, child);
    const st = await fs.lstat(full);
    const what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${await fs.readlink(full)}` : st.isFile() ? `file ${sha256(await fs.readFile(full))}` : `other ${st.rdev}`;
    out.push(`${child} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} m${st.mtimeMs} a${st.atimeMs}`);
    if (st.isDirectory()) out.push(...(await describeTree(root, child)));
  }
  return out;
}

/** A COPY-like upper dir: nested directories, odd modes and owners, a symlink, sub-second times. */
async function makeUpper(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'app/lib'), { recursive: true });
  await fs.writeFile(path.join(dir, 'app/server.js'), 'console.log(1)\n');
  await fs.writeFile(path.join(dir, 'app/lib/big.bin'), Buffer.alloc(300_000, 7));
  await fs.chmod(path.join(dir, 'app/lib/big.bin'), 0o4750);
  await fs.lchown(path.join(dir, 'app/server.js'), 1000, 1001);
  await fs.symlink('../server.js', path.join(dir, 'app/lib/entry'));
  await fs.utimes(path.join(dir, 'app/server.js'), 1_600_000_000.123, 1_600_000_000.987);
}

describe('committing a build step directory', () => {
  let store: Store;
  let root: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ store, root, cleanup } = await tempStore());
  });
  afterEach(async () => cleanup());

  it('stores a plain tar whose digest is the diffID and takes the directory over as the extracted layer, as extraction would make it', async () => {
    const upper = await fs.mkdtemp(path.join(store.tmpDir, 'copy-'));
    await makeUpper(upper);
    const layer = (await commitDirectory(store, upper, null, { overlayUpper: false }))!;
    expect(layer.blob).toMatchObject({ digest: layer.diffId, mediaType: 'application/vnd.docker.image.rootfs.diff.tar' });
    expect(sha256(await fs.readFile(store.blobs.path(layer.blob.digest)))).toBe(layer.diffId);
    expect(layer.size).toBe(15 + 300_000 + '../server.js'.length);
    await expect(fs.access(upper)).rejects.toThrow(/ENOENT/);
    const extracted = path.join(root, 'extracted');
    await fs.mkdir(extracted, { mode: 0o755 });
    await applyLayer(createReadStream(store.blobs.path(layer.blob.digest)), extracted);
    const adopted = await store.layers.diffDir(layer.chainId);
    expect(adopted).toBe(path.join(store.root, 'layers', layer.chainId.slice(7), 'diff'));
    expect(await describeTree(adopted)).toEqual(await describeTree(extracted));
    expect((await fs.stat(adopted)).mode & 0o7777).toBe(0o755);
  });

  it('leaves a directory whose tar would extract differently (a .wh. name) to be extracted from the blob', async () => {
    const upper = await fs.mkdtemp(path.join(store.tmpDir, 'copy-'));
    await fs.writeFile(path.join(upper, '.wh.hidden'), '');
    await fs.writeFile(path.join(upper, 'kept'), 'k');
    const layer = (await commitDirectory(store, upper, null, { overlayUpper: false }))!;
    expect((await fs.readdir(upper)).sort()).toEqual(['.wh.hidden', 'kept']);
    const diff = await store.layers.diffDir(layer.chainId);
    const st = await fs.lstat(path.join(diff, 'hidden'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    await expect(fs.access(path.join(diff, '.wh.hidden'))).rejects.toThrow(/ENOENT/);
  });

  it('gives an identical directory the same layer again, keeping the first extracted directory', async () => {
    const first = await fs.mkdtemp(path.join(store.tmpDir, 'copy-'));
    const second = await fs.mkdtemp(path.join(store.tmpDir, 'copy-'));
    for (const dir of [first, second]) await makeUpper(dir);
    const a = (await commitDirectory(store, first, null, { overlayUpper: false }))!;
    const b = (await commitDirectory(store, second, null, { overlayUpper: false }))!;
    expect(b).toEqual(a);
    expect(await describeTree(second)).toEqual(await describeTree(await store.layers.diffDir(a.chainId)));
  });
});
