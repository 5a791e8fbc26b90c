import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serializeConfig } from '../../runtime/image/config.ts';
import type { Store } from '../../runtime/store/store.ts';
import { chainIds, sha256, type Digest } from '../../runtime/util/digest.ts';
import { makeImage, tempStore } from '../helpers/store.ts';

let store: Store;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => cleanup());

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe('content addressing', () => {
  it('names an image by the sha256 of its exact config bytes', async () => {
    const { id } = await makeImage(store, [{ 'etc/hello': 'hi\n' }]);
    const bytes = await fs.readFile(store.blobs.path(id));
    expect(id).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(bytes.toString()).toBe(serializeConfig(JSON.parse(bytes.toString())));
  });

  it('computes chain IDs as the OCI image spec defines them', () => {
    const a = `sha256:${hex('a')}` as Digest;
    const b = `sha256:${hex('b')}` as Digest;
    const c = `sha256:${hex('c')}` as Digest;
    const ab = `sha256:${hex(`${a} ${b}`)}`;
    expect(chainIds([a, b, c])).toEqual([a, ab, `sha256:${hex(`${ab} ${c}`)}`]);
  });

  it('stores layers made here as plain tars whose blob digest is the diffID', async () => {
    const { layers } = await makeImage(store, [{ 'a.txt': 'a' }]);
    const layer = layers[0]!;
    const blob = await fs.readFile(store.blobs.path(layer.blob.digest));
    expect(blob.subarray(257, 262).toString()).toBe('ustar');
    expect(sha256(blob)).toBe(layer.diffId);
    expect(layer.blob).toEqual({ digest: layer.diffId, size: blob.length, mediaType: 'application/vnd.docker.image.rootfs.diff.tar' });
    expect(layer.chainId).toBe(layer.diffId);
    expect(layer.size).toBe(1);
  });

  it('keeps serialised configs HTML-escaped like Docker', () => {
    const text = serializeConfig({ architecture: 'amd64', os: 'linux', author: 'a <b@c>', rootfs: { type: 'layers', diff_ids: [] } });
    expect(text).toContain('a \\u003cb@c\\u003e');
    expect(Object.keys(JSON.parse(text))).toEqual(['architecture', 'author', 'os', 'rootfs']);
  });
});

describe('garbage collection', () => {
  it('removes unreferenced images and their exclusive layers, keeping shared ones', async () => {
    const ns = await store.namespace('default');
    const base = { 'bin/tool': 'tool' };
    const a = await makeImage(store, [base, { 'a.txt': 'only in a' }]);
    const b = await makeImage(store, [base, { 'b.txt': 'only in b' }]);
    await ns.update((d) => {
      d.images[b.id] = { added: new Date().toISOString() };
    });
    const result = await store.collectGarbage();
    expect(result.deletedLayers).toEqual([a.layers[1]!.chainId]);
    expect(result.deletedImages).toContain(a.id);
    expect(store.layers.get(a.layers[0]!.chainId)).toBeDefined();
    expect(await store.blobs.has(a.layers[1]!.blob.digest)).toBe(false);
    expect(await store.blobs.has(b.id)).toBe(true);
  });

  it('never removes a layer that is in use, nor its parents', async () => {
    const a = await makeImage(store, [{ 'x': '1' }, { 'y': '2' }]);
    const top = a.layers[1]!.chainId;
    const dir = await store.layers.diffDir(top);
    store.addRootProvider(() => ({ layers: [top] }));
    const result = await store.collectGarbage();
    expect(result.deletedLayers).toEqual([]);
    expect(store.layers.get(a.layers[0]!.chainId)).toBeDefined();
    expect(await fs.readFile(path.join(dir, 'y'), 'utf8')).toBe('2');
  });

  it('does not collect content written under the shared lock before it is named', async () => {
    let release!: () => void;
    const holding = store.gcLock.shared(() => new Promise<void>((r) => (release = r)));
    const { id } = await makeImage(store, [{ 'z': 'z' }]);
    const gc = store.collectGarbage();
    const ns = await store.namespace('default');
    await ns.update((d) => {
      d.images[id] = { added: new Date().toISOString() };
    });
    release();
    await holding;
    expect((await gc).deletedImages).toEqual([]);
  });
});

describe('layer extraction', () => {
  it('extracts each chain once even under concurrent requests, read-only for users', async () => {
    const { layers } = await makeImage(store, [{ 'd/f': 'data', 'l': { symlink: '/etc/passwd' } }]);
    const dirs = await Promise.all(Array.from({ length: 8 }, () => store.layers.diffDir(layers[0]!.chainId)));
    expect(new Set(dirs).size).toBe(1);
    expect(await fs.readlink(path.join(dirs[0]!, 'l'))).toBe('/etc/passwd');
    const stateMode = (await fs.stat(store.root)).mode & 0o777;
    expect(stateMode).toBe(0o700);
  });

  it('serialises concurrent namespace updates without losing any', async () => {
    const ns = await store.namespace('default');
    const ids = Array.from({ length: 20 }, (_, i) => sha256(`image ${i}`));
    await Promise.all(ids.map((id) => ns.update((d) => void (d.tags[`docker.io/library/x:${id.slice(7, 15)}`] = id))));
    const reopened = await (await tempReopen(store)).namespace('default');
    expect(Object.keys(reopened.snapshot().tags)).toHaveLength(20);
  });
});

async function tempReopen(s: Store): Promise<Store> {
  const { Store: StoreClass } = await import('../../runtime/store/store.ts');
  return StoreClass.open(s.root);
}
