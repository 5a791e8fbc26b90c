import { chainIds, type Digest } from '../util/digest.ts';
import type { ImageContext } from './context.ts';
import { listImages, type ImageSummary } from './list.ts';
import { refsOf } from './refs.ts';

/** The image part of `GET /system/df`. */
export interface ImageDiskUsage {
  /** Bytes of every layer some listed-or-tagged image of the namespace uses. */
  LayersSize: number;
  Images: ImageSummary[];
}

/**
 * `docker system df`, images part (dockerd's SystemDiskUsage + LayerDiskUsage): the top-level image list
 * with container counts and shared sizes, and the size of the layers those images use. Layers are shared
 * by every namespace on the store, but each namespace counts only the ones its own images use.
 */
export async function imageDiskUsage(ctx: ImageContext): Promise<ImageDiskUsage> {
  const images = await listImages(ctx, { all: false, filters: new Map(), withUsage: true });
  return { LayersSize: await layersSize(ctx), Images: images };
}

/** Untagged intermediate images are skipped, as in dockerd's getLayerRefs; their layers are their children's. */
async function layersSize(ctx: ImageContext): Promise<number> {
  const state = ctx.ns.snapshot();
  const parents = new Set(Object.values(state.images).flatMap((e) => (e.parent ? [e.parent] : [])));
  const used = new Set<Digest>();
  for (const id of Object.keys(state.images) as Digest[]) {
    if (parents.has(id) && refsOf(state, id).length === 0) continue;
    const config = await ctx.store.imageConfig(id).catch(() => undefined);
    for (const c of chainIds(config?.rootfs.diff_ids ?? [])) used.add(c);
  }
  let total = 0;
  for (const c of used) total += ctx.store.layers.get(c)?.size ?? 0;
  return total;
}
