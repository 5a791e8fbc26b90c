import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { serializeConfig, type ImageConfig } from '../image/config.ts';
import { canonicalString, parseTaggedReference } from '../image/reference.ts';
import { LAYER_MEDIA_TYPE } from '../store/layer-store.ts';
import { hexOf, sha256, type Digest } from '../util/digest.ts';
import { syncPath } from '../util/fsx.ts';
import { writeGzipBlob, writeLayerBlob } from './layer-blob.ts';
import { catalogError } from './recipe.ts';
import {
  CONFIG_MEDIA_TYPE,
  DESCRIPTION_ANNOTATION,
  LAYER_SIZE_ANNOTATION,
  MANIFEST_MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  SYSTEM_ANNOTATION,
  TAG_ANNOTATION,
  type Descriptor,
  type LayoutIndex,
  type Manifest,
} from './layout.ts';

export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

/** A layer written into the layout: its manifest descriptor and the diffID its config lists. */
export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
  /** Bytes of file content (also in the descriptor's size annotation). */
  contentSize: number;
}

export interface WrittenImage {
  /** The image ID: sha256 of the config bytes. */
  id: Digest;
  manifest: Descriptor;
}

/**
 * Writes an OCI image layout (`oci-layout`, `blobs/sha256/…`, `index.json`) holding Docker v2 schema2
 * manifests with gzip layers, in the form runtime/catalog/catalog.ts reads. The layout is only complete once
 * `finish()` has written the index; callers build it in a scratch directory and rename it into place.
 */
export class LayoutWriter {
  private readonly manifests: Descriptor[] = [];

  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<LayoutWriter> {
    await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const writer = new LayoutWriter(dir);
    await writer.writeFile('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    return writer;
  }

  get blobsDir(): string {
    return path.join(this.dir, 'blobs', 'sha256');
  }

  /** Store bytes under their digest (once: equal content is one blob). */
  async writeBlob(data: string | Buffer, mediaType: string): Promise<Descriptor> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const digest = sha256(bytes);
    await this.writeFile(path.join('blobs', 'sha256', hexOf(digest)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Tar and gzip a root filesystem directory as one layer blob. */
  async writeLayer(rootfs: string): Promise<WrittenLayer> {
    const blob = await writeLayerBlob(rootfs, this.blobsDir);
    return { descriptor: layerDescriptor(blob.digest, blob.size, blob.contentSize), diffId: blob.diffId, contentSize: blob.contentSize };
  }

  /** Gzip a plain layer tar (one the engine's builder made) into the layout; `contentSize` is Docker's layer size. */
  async writeLayerTar(tar: Readable, contentSize: number): Promise<WrittenLayer> {
    const blob = await writeGzipBlob(tar, this.blobsDir);
    return { descriptor: layerDescriptor(blob.digest, blob.size, contentSize), diffId: blob.diffId, contentSize };
  }

  /**
   * Write an image's config and manifest, and name it in the index once per reference (aliases such as
   * `debian:12` and `debian:bookworm` share one manifest). `system` marks it as one of layerlab's own images.
   */
  async writeImage(config: ImageConfig, layers: readonly WrittenLayer[], refs: readonly string[], description: string, system = false): Promise<WrittenImage> {
    checkConsistent(config, layers);
    const configDescriptor = await this.writeBlob(serializeConfig(config), CONFIG_MEDIA_TYPE);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      config: configDescriptor,
      layers: layers.map((l) => l.descriptor),
    };
    // Docker's registry client writes manifests with 3-space indentation; any exact bytes would do.
    const manifestDescriptor = await this.writeBlob(JSON.stringify(manifest, null, 3), MANIFEST_MEDIA_TYPE);
    for (const name of refs) {
      const ref = parseTaggedReference(name);
      if (ref.tag === undefined) throw catalogError(`catalog names need a tag: ${name}`);
      const canonical = canonicalString(ref);
      if (this.manifests.some((m) => m.annotations?.[REF_NAME_ANNOTATION] === canonical)) throw catalogError(`catalog name used twice: ${name}`);
      this.manifests.push({
        ...manifestDescriptor,
        annotations: {
          [REF_NAME_ANNOTATION]: canonical,
          [TAG_ANNOTATION]: ref.tag,
          [DESCRIPTION_ANNOTATION]: description,
          ...(system ? { [SYSTEM_ANNOTATION]: 'true' } : {}),
        },
      });
    }
    return { id: configDescriptor.digest as Digest, manifest: manifestDescriptor };
  }

  /** Write `index.json` and flush the directories: after this the layout is complete. */
  async finish(): Promise<void> {
    const index: LayoutIndex = { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: this.manifests };
    await this.writeFile('index.json', JSON.stringify(index, null, 2));
    await syncPath(this.blobsDir);
    await syncPath(this.dir);
  }

  /** Write and flush a file inside the layout (a scratch directory, so no temp-and-rename is needed). */
  async writeFile(rel: string, data: string | Buffer): Promise<void> {
    const file = path.join(this.dir, rel);
    await fs.writeFile(file, data, { mode: 0o644 });
    await syncPath(file);
  }
}

/** A gzip layer's manifest entry, with its content size for imports. */
export function layerDescriptor(digest: Digest, size: number, contentSize: number): Descriptor {
  return { mediaType: LAYER_MEDIA_TYPE, digest, size, annotations: { [LAYER_SIZE_ANNOTATION]: String(contentSize) } };
}

/** The config must describe exactly the layers given: one diffID and one non-empty history entry each. */
function checkConsistent(config: ImageConfig, layers: readonly WrittenLayer[]): void {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layers.length || diffIds.some((d, i) => d !== layers[i]!.diffId)) {
    throw catalogError('image config diff_ids do not match the layers written');
  }
  const layerHistory = (config.history ?? []).filter((h) => !h.empty_layer).length;
  if (layerHistory !== layers.length) throw catalogError('image config history does not match its layers');
}
