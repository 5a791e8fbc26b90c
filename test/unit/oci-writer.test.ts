import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../runtime/catalog/catalog.ts';
import { LAYER_SIZE_ANNOTATION, MANIFEST_MEDIA_TYPE } from '../../runtime/catalog/layout.ts';
import { LayoutWriter } from '../../runtime/catalog/oci-writer.ts';
import { serializeConfig } from '../../runtime/image/config.ts';
import type { Digest } from '../../runtime/util/digest.ts';
import { makeTree } from '../helpers/images.ts';
import { blobPath, configFor, readLayer, readLayoutImages, sha256Hex } from '../helpers/layout.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-oci-writer-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('LayoutWriter', () => {
  it('writes a layout the catalog reads, with digests that match the bytes', async () => {
    const tree = await makeTree({ 'bin/tool': 'abcdef', 'etc/conf': 'xyz', 'etc/link': { symlink: '/bin/tool' }, 'empty/': { dir: true } }, path.join(root, 'tree1'));
    await fs.link(path.join(tree, 'bin/tool'), path.join(tree, 'bin/tool-again')); // a hard link: counted once
    const layout = path.join(root, 'layout1');
    const writer = await LayoutWriter.create(layout);
    const layer = await writer.writeLayer(tree);
    const config = configFor([layer]);
    const image = await writer.writeImage(config, [layer], ['example:1', 'example:latest'], 'an example');
    await writer.finish();

    expect(JSON.parse(await fs.readFile(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const catalog = await Catalog.open(layout);
    expect(catalog.names()).toEqual(['example:1', 'example:latest']);
    expect(catalog.entries.every((e) => e.manifest === image.manifest.digest && e.description === 'an example')).toBe(true);

    const [first] = await readLayoutImages(layout);
    expect(first!.manifest.mediaType).toBe(MANIFEST_MEDIA_TYPE);
    expect(sha256Hex(await fs.readFile(blobPath(layout, first!.manifestDigest)))).toBe(first!.manifestDigest);
    expect(sha256Hex(first!.configBytes)).toBe(image.id);
    expect(first!.configBytes.toString()).toBe(serializeConfig(config));
    const blob = await fs.readFile(blobPath(layout, layer.descriptor.digest));
    expect(sha256Hex(blob)).toBe(layer.descriptor.digest);
    expect(blob.length).toBe(layer.descriptor.size);
    // 6 + 3 bytes of content, the hard link once, plus the symlink's 9-byte target (Docker counts links too).
    expect(layer.descriptor.annotations?.[LAYER_SIZE_ANNOTATION]).toBe('18');

    const read = await readLayer(blobPath(layout, layer.descriptor.digest), ['bin/tool']);
    expect(read.diffId).toBe(layer.diffId);
    const byName = new Map(read.entries.map((e) => [e.name, e]));
    expect(byName.get('bin/tool')?.content?.toString()).toBe('abcdef');
    expect(byName.get('bin/tool-again')).toMatchObject({ type: 'link', linkname: 'bin/tool' });
    expect(byName.get('etc/link')).toMatchObject({ type: 'symlink', linkname: '/bin/tool' });
    expect(byName.get('empty/')).toMatchObject({ type: 'directory' });
  });

  it('stores equal content once and leaves no temp files', async () => {
    const layout = path.join(root, 'layout2');
    const writer = await LayoutWriter.create(layout);
    const a = await writer.writeBlob('same', 'text/plain');
    const b = await writer.writeBlob(Buffer.from('same'), 'text/plain');
    expect(a).toEqual(b);
    const tree = await makeTree({ f: 'x' }, path.join(root, 'tree2'));
    await writer.writeLayer(tree);
    await writer.finish();
    const names = await fs.readdir(writer.blobsDir);
    expect(names.filter((n) => !/^[a-f0-9]{64}$/.test(n))).toEqual([]);
    expect(names).toHaveLength(2);
  });

  it('refuses a config that does not describe the layers, and a name used twice', async () => {
    const writer = await LayoutWriter.create(path.join(root, 'layout3'));
    const layer = await writer.writeLayer(await makeTree({ f: 'x' }, path.join(root, 'tree3')));
    const wrongDiff = configFor([{ ...layer, diffId: `sha256:${'0'.repeat(64)}` as Digest }]);
    await expect(writer.writeImage(wrongDiff, [layer], ['a:1'], '')).rejects.toThrow(/diff_ids do not match/);
    const noHistory = { ...configFor([layer]), history: [] };
    await expect(writer.writeImage(noHistory, [layer], ['a:1'], '')).rejects.toThrow(/history does not match/);
    await writer.writeImage(configFor([layer]), [layer], ['a:1'], '');
    await expect(writer.writeImage(configFor([layer]), [layer], ['docker.io/library/a:1'], '')).rejects.toThrow(/used twice/);
  });
});
