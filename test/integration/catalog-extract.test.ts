import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../runtime/catalog/catalog.ts';
import { LayoutWriter } from '../../runtime/catalog/oci-writer.ts';
import { Store } from '../../runtime/store/store.ts';
import { chainIds } from '../../runtime/util/digest.ts';
import { makeTree } from '../helpers/images.ts';
import { configFor } from '../helpers/layout.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-catalog-extract-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** Every extracted layer directory under the store. */
async function extractedDirs(storeRoot: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === 'diff') found.push(path.join(dir, e.name));
      else if (depth < 3) await walk(path.join(dir, e.name), depth + 1);
    }
  };
  await walk(storeRoot, 0);
  return found.sort();
}

// `npm start` extracts the catalog's layers in the background (server/cli.ts) so that a learner's first run of a
// big image does not wait for it; this is that extraction, on a real store and a real OCI layout.
describe('catalog layer extraction ahead of use', () => {
  it('extracts the layers of every image the store knows, once, and skips images it does not know', async () => {
    const layout = path.join(root, 'layout');
    const writer = await LayoutWriter.create(layout);
    const base = await writer.writeLayer(await makeTree({ 'bin/base': 'base layer' }, path.join(root, 'base')));
    const app = await writer.writeLayer(await makeTree({ 'app/run': 'app layer', 'app/dir/': { dir: true } }, path.join(root, 'app')));
    await writer.writeImage(configFor([base, app]), [base, app], ['app:latest'], 'two layers');
    await writer.writeImage(configFor([base]), [base], ['base:latest'], 'the shared base');
    await writer.finish();
    const catalog = await Catalog.open(layout);

    const storeRoot = path.join(root, 'store');
    const store = await Store.open(storeRoot);
    await catalog.importAll(store, await store.namespace('default'));
    expect(await extractedDirs(storeRoot)).toEqual([]);

    // A layout whose image the store never imported: nothing to do for it, and no error.
    const elsewhere = await LayoutWriter.create(path.join(root, 'elsewhere'));
    const other = await elsewhere.writeLayer(await makeTree({ 'other/file': 'never imported' }, path.join(root, 'other')));
    await elsewhere.writeImage(configFor([other]), [other], ['other:latest'], 'not in the store');
    await elsewhere.finish();
    await (await Catalog.open(path.join(root, 'elsewhere'))).extractLayers(store);
    expect(await extractedDirs(storeRoot)).toEqual([]);

    await catalog.extractLayers(store);
    const dirs = await extractedDirs(storeRoot);
    expect(dirs).toHaveLength(2); // base and app; the shared base once
    const [baseChain, appChain] = chainIds([base.diffId, app.diffId]);
    const lowers = await store.layers.lowerDirs(appChain!);
    expect(lowers.sort()).toEqual(dirs);
    expect(await fs.readFile(path.join(lowers.find((d) => d.includes(baseChain!.slice(7)))!, 'bin/base'), 'utf8')).toBe('base layer');
    expect(await fs.readFile(path.join(lowers.find((d) => d.includes(appChain!.slice(7)))!, 'app/run'), 'utf8')).toBe('app layer');

    // Kept: a second pass (the next `npm start`) extracts nothing again.
    const before = await Promise.all(dirs.map(async (d) => (await fs.stat(d)).ino));
    await catalog.extractLayers(store);
    expect(await Promise.all(dirs.map(async (d) => (await fs.stat(d)).ino))).toEqual(before);
  });
});
