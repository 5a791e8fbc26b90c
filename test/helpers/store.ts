import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PATH_ENV, type ImageConfig } from '../../runtime/image/config.ts';
import { registerLayerFile } from '../../runtime/image/layer-import.ts';
import type { LayerRecord } from '../../runtime/store/layer-store.ts';
import { Store } from '../../runtime/store/store.ts';
import type { Digest } from '../../runtime/util/digest.ts';
import { makeTree, tarTree, type TreeSpec } from './images.ts';

/** A Store in a fresh temp directory (real files). */
export async function tempStore(): Promise<{ store: Store; root: string; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-store-'));
  const store = await Store.open(path.join(root, 'state'));
  return { store, root, cleanup: () => fs.rm(root, { recursive: true, force: true }) };
}

/** Register layers built from tree specs, bottom first, and an image config over them. */
export async function makeImage(store: Store, layers: TreeSpec[], extra: Partial<ImageConfig> = {}): Promise<{ id: Digest; layers: LayerRecord[] }> {
  const records: LayerRecord[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'layerlab-layer-'));
  try {
    for (const [i, spec] of layers.entries()) {
      const tar = await tarTree(await makeTree(spec, path.join(scratch, `tree${i}`)), path.join(scratch, `layer${i}.tar`));
      records.push(await registerLayerFile(store, records[i - 1]?.chainId ?? null, tar));
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: [DEFAULT_PATH_ENV], Cmd: ['sh'] },
    created: new Date().toISOString(),
    history: records.map((_, i) => ({ created: new Date().toISOString(), created_by: `test layer ${i}` })),
    rootfs: { type: 'layers', diff_ids: records.map((r) => r.diffId) },
    ...extra,
  };
  return { id: await store.putImageConfig(config), layers: records };
}
