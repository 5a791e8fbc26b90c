import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATALOG_PLAN, RECIPE_FILE, recipeStamp } from '../../runtime/catalog/build.ts';
import { LayoutWriter, type WrittenLayer } from '../../runtime/catalog/oci-writer.ts';
import type { ContainerConfig, ImageConfig } from '../../runtime/image/config.ts';
import type { Digest } from '../../runtime/util/digest.ts';
import { makeTree, type TreeSpec } from './images.ts';

export interface TestImageOptions {
  /** RFC 3339 creation time of the image and its history entries. */
  created?: string;
  /** The image's container config (Cmd, Labels, …). */
  config?: ContainerConfig;
  /** `created_by` of each layer's history entry; defaults to `layer <n>`. */
  createdBy?: string[];
  comment?: string;
}

/**
 * A small offline catalog for tests (an OCI image layout, written with the engine's own LayoutWriter), so a
 * test engine starts with known images without the machine's catalog. Layers are reusable: pass the same
 * WrittenLayer to several images to make them share it.
 */
export class TestCatalog {
  private constructor(
    readonly dir: string,
    private readonly writer: LayoutWriter,
  ) {}

  static async create(dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlab-testcat-')), 'catalog')): Promise<TestCatalog> {
    return new TestCatalog(dir, await LayoutWriter.create(dir));
  }

  /** A layer holding the given files. */
  async layer(spec: TreeSpec): Promise<WrittenLayer> {
    const tree = await makeTree(spec);
    try {
      return await this.writer.writeLayer(tree);
    } finally {
      await fs.rm(tree, { recursive: true, force: true });
    }
  }

  /** An image of these layers (base first), named by every ref. Returns the image ID. */
  async image(refs: string[], layers: WrittenLayer[], opts: TestImageOptions = {}): Promise<Digest> {
    const created = opts.created ?? '2024-01-02T03:04:05.123456789Z';
    const config: ImageConfig = {
      architecture: 'amd64',
      config: opts.config ?? { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
      created,
      history: layers.map((_, i) => ({ created, created_by: opts.createdBy?.[i] ?? `layer ${i}`, ...(opts.comment ? { comment: opts.comment } : {}) })),
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    };
    return (await this.writer.writeImage(config, layers, refs, `test image ${refs.join(', ')}`)).id;
  }

  /**
   * Write the index; the catalog is then ready for startEngine(name, { catalogDir }). It carries the current
   * recipe stamp, or the engine's setup would replace it with a freshly built real catalog.
   */
  async finish(): Promise<string> {
    await this.writer.writeFile(RECIPE_FILE, recipeStamp(CATALOG_PLAN));
    await this.writer.finish();
    return this.dir;
  }

  async remove(): Promise<void> {
    await fs.rm(path.dirname(this.dir), { recursive: true, force: true });
  }
}
