import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageConfig } from '../../runtime/image/config.ts';
import { registerLayerFile } from '../../runtime/image/layer-import.ts';
import { canonicalString, parseTaggedReference } from '../../runtime/image/reference.ts';
import type { Namespace } from '../../runtime/store/namespace.ts';
import { Store } from '../../runtime/store/store.ts';
import type { Digest } from '../../runtime/util/digest.ts';
import { makeTree, tarTree, type TreeSpec } from './images.ts';

export interface ChildImage {
  /** The image this one is built on (a classic-builder parent link), if any. */
  parent?: Digest;
  /** New layers on top of the parent's, base first. None: a metadata-only step. */
  layers?: TreeSpec[];
  /** `created_by` of the step; one history entry per new layer, or one empty-layer entry when there is none. */
  step?: string;
  tags?: string[];
  created?: string;
  labels?: Record<string, string>;
}

/**
 * Real images in a real Store on a temp dir, with parent links as the classic builder makes them: each image
 * extends its parent's config (layers and history). For rules the API cannot reach yet (no builder).
 */
export class StoreImages {
  private constructor(
    readonly root: string,
    readonly store: Store,
    readonly ns: Namespace,
  ) {}

  static async open(name = 'default'): Promise<StoreImages> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-store-images-'));
    const store = await Store.open(path.join(root, 'state'));
    return new StoreImages(root, store, await store.namespace(name));
  }

  async add(image: ChildImage): Promise<Digest> {
    const base = image.parent ? await this.store.imageConfig(image.parent) : undefined;
    const created = image.created ?? new Date().toISOString();
    let top = base ? ((await this.store.topLayer(image.parent!)) ?? null) : null;
    const diffIds = [...(base?.rootfs.diff_ids ?? [])];
    const history = [...(base?.history ?? [])];
    for (const spec of image.layers ?? []) {
      const record = await registerLayerFile(this.store, top, await this.tar(spec));
      top = record.chainId;
      diffIds.push(record.diffId);
      history.push({ created, created_by: image.step ?? 'layer' });
    }
    if (!image.layers?.length) history.push({ created, created_by: image.step ?? 'metadata', empty_layer: true });
    const config: ImageConfig = {
      architecture: 'amd64',
      config: { Env: ['PATH=/bin'], Cmd: ['sh'], Labels: image.labels ?? base?.config?.Labels ?? null },
      created,
      history,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
    };
    const id = await this.store.putImageConfig(config);
    await this.ns.update((draft) => {
      draft.images[id] = { added: new Date().toISOString(), ...(image.parent ? { parent: image.parent } : {}) };
      for (const t of image.tags ?? []) draft.tags[canonicalString(parseTaggedReference(t))] = id;
    });
    return id;
  }

  async close(): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true });
  }

  private async tar(spec: TreeSpec): Promise<string> {
    const tree = await makeTree(spec, mkdtempSync(path.join(this.root, 'tree-')));
    return tarTree(tree, `${tree}.tar`);
  }
}
