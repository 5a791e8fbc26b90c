import { chainIds, type Digest } from '../util/digest.ts';
import type { ImageContext } from './context.ts';
import { untyped } from './filters.ts';
import { getImage } from './get-image.ts';
import { unixSeconds } from './go-time.ts';
import { refsOf } from './refs.ts';

/** One element of `GET /images/{name}/history` (JSON order of Go's HistoryResponseItem). */
export interface HistoryItem {
  Comment: string;
  Created: number;
  CreatedBy: string;
  Id: string;
  Size: number;
  Tags: string[] | null;
}

/**
 * `docker history`, following dockerd's ImageHistory: one item per config history entry, newest first, with
 * the size of the layer an entry created. IDs come from walking the image's parent chain: the top entry
 * is the image itself, the next its parent, and so on while parents exist; the rest are `<missing>`.
 */
export async function imageHistory(ctx: ImageContext, input: string): Promise<HistoryItem[]> {
  const { id } = getImage(ctx.ns, input);
  const config = await ctx.store.imageConfig(id);
  const chains = chainIds(config.rootfs.diff_ids);
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      const chainId = chains[layer++];
      if (!chainId) throw untyped('too many non-empty layers in History section');
      size = ctx.store.layers.require(chainId).size;
    }
    items.unshift({ Comment: h.comment ?? '', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Id: '<missing>', Size: size, Tags: null });
  }
  fillIds(ctx, id, items);
  return items;
}

function fillIds(ctx: ImageContext, top: Digest, items: HistoryItem[]): void {
  const state = ctx.ns.snapshot();
  let id: Digest | undefined = top;
  for (const item of items) {
    if (!id) break;
    item.Id = id;
    const tags = refsOf(state, id).filter((r) => !r.digested).map((r) => r.familiar);
    item.Tags = tags.length > 0 ? tags : null;
    id = state.images[id]?.parent;
    if (id && !state.images[id]) break;
  }
}
