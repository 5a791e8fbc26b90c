import { chainIds, isDigest, type Digest } from '../util/digest.ts';
import type { ImageContext } from './context.ts';
import { deleteImage, type DeleteOptions, type DeleteRecord } from './delete-rules.ts';
import { getImage } from './get-image.ts';

export type { DeleteOptions, DeleteRecord } from './delete-rules.ts';

/**
 * `docker rmi <input>`: resolve the input as dockerd does, apply Docker's delete rules to the namespace in
 * one atomic update, then reclaim the layers no image needs any more.
 */
export async function removeImage(ctx: ImageContext, input: string, opts: DeleteOptions): Promise<DeleteRecord[]> {
  const { id } = getImage(ctx.ns, input);
  const records = await ctx.ns.update((draft) => deleteImage(draft, id, input, opts, ctx.containersUsingImage));
  return (await reclaimLayers(ctx, records)).records;
}

/**
 * Run the store's garbage collection after images were deleted and report the layers it removed the way
 * dockerd does: `{"Deleted": <chain ID>}` right after the last deleted image that used the layer (when its
 * reference count would have dropped to zero), top layer first. Layers of other images are not reported.
 */
export async function reclaimLayers(ctx: ImageContext, records: DeleteRecord[]): Promise<{ records: DeleteRecord[]; reclaimed: number }> {
  const deleted = records.flatMap((r) => ('Deleted' in r && isDigest(r.Deleted) ? [r.Deleted] : []));
  if (deleted.length === 0) return { records, reclaimed: 0 };
  const chains = new Map<Digest, Digest[]>();
  for (const id of deleted) chains.set(id, chainIds((await ctx.store.imageConfig(id)).rootfs.diff_ids));
  const sizes = new Map<Digest, number>();
  for (const chain of chains.values()) for (const c of chain) sizes.set(c, ctx.store.layers.get(c)?.size ?? 0);
  const gone = new Set((await ctx.store.collectGarbage()).deletedLayers);
  const owner = new Map<Digest, Digest>();
  for (const id of deleted) for (const c of chains.get(id)!) if (gone.has(c)) owner.set(c, id);
  const out: DeleteRecord[] = [];
  let reclaimed = 0;
  for (const r of records) {
    out.push(r);
    if (!('Deleted' in r)) continue;
    for (const c of [...(chains.get(r.Deleted as Digest) ?? [])].reverse()) {
      if (owner.get(c) !== r.Deleted) continue;
      out.push({ Deleted: c });
      reclaimed += sizes.get(c) ?? 0;
    }
  }
  return { records: out, reclaimed };
}
