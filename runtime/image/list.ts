import type { NamespaceState } from '../store/namespace.ts';
import { chainIds, type Digest } from '../util/digest.ts';
import type { ImageConfig } from './config.ts';
import type { ImageContext } from './context.ts';
import { danglingFilter, matchKVList, validateFilters, type Filters } from './filters.ts';
import { getImage } from './get-image.ts';
import { compileGlob } from './glob.ts';
import { unixSeconds } from './go-time.ts';
import { familiarName } from './reference.ts';
import { refsOf, type ImageRef } from './refs.ts';

/** One element of `GET /images/json` (Go's types.ImageSummary, fields in its JSON order). */
export interface ImageSummary {
  Containers: number;
  Created: number;
  Id: Digest;
  Labels: Record<string, string> | null;
  ParentId: string;
  RepoDigests: string[] | null;
  RepoTags: string[] | null;
  SharedSize: number;
  Size: number;
  VirtualSize: number;
}

export interface ListImagesOptions {
  /** `-a`: also show untagged images that have children (intermediate build images). */
  all: boolean;
  filters: Filters;
  /** For `system df`: real container counts and shared sizes instead of -1. */
  withUsage?: boolean;
}

const ACCEPTED = ['dangling', 'label', 'before', 'since', 'reference'] as const;

/**
 * `docker images`, following dockerd's ImageService.Images: untagged images with children are hidden unless
 * `all`; the rest show as `<none>:<none>` with RepoDigests `["<none>@<none>"]`; newest first.
 */
export async function listImages(ctx: ImageContext, opts: ListImagesOptions): Promise<ImageSummary[]> {
  const { filters } = opts;
  validateFilters(filters, ACCEPTED);
  const danglingOnly = danglingFilter(filters, false) === true;
  const state = ctx.ns.snapshot();
  const children = childCounts(state);
  const before = await createdOfLast(ctx, filters.get('before'));
  const since = await createdOfLast(ctx, filters.get('since'));
  const matchRef = referenceMatcher(filters.get('reference'));
  const listed: Array<{ summary: ImageSummary; config: ImageConfig; added: string }> = [];
  for (const id of Object.keys(state.images) as Digest[]) {
    if (danglingOnly && children.has(id)) continue;
    const config = await ctx.store.imageConfig(id).catch(() => undefined);
    if (!config) continue;
    const created = Date.parse(config.created ?? '');
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (filters.has('label') && (!config.config || !matchKVList(filters.get('label'), config.config.Labels))) continue;
    const size = await ctx.store.imageSize(id).catch(() => undefined);
    // A layer deleted under us: dockerd skips such an image rather than failing the list.
    if (size === undefined) continue;
    const summary = newSummary(id, config, size, state.images[id]?.parent);
    const refs = refsOf(state, id).filter(matchRef);
    for (const r of refs) (r.digested ? (summary.RepoDigests ??= []) : (summary.RepoTags ??= [])).push(r.familiar);
    if (!summary.RepoDigests && !summary.RepoTags) {
      if (!opts.all && children.has(id)) continue;
      if (filters.has('dangling') && !danglingOnly) continue;
      if (filters.has('reference')) continue;
      summary.RepoDigests = ['<none>@<none>'];
      summary.RepoTags = ['<none>:<none>'];
    } else if (danglingOnly && summary.RepoTags) continue;
    listed.push({ summary, config, added: state.images[id]?.added ?? '' });
  }
  if (opts.withUsage) addUsage(ctx, listed);
  // Newest first; images created in the same second keep the order they arrived in, newest first.
  listed.sort((a, b) => b.summary.Created - a.summary.Created || (b.added < a.added ? -1 : b.added > a.added ? 1 : 0));
  return listed.map((l) => l.summary);
}

function newSummary(id: Digest, config: ImageConfig, size: number, parent: Digest | undefined): ImageSummary {
  return {
    Containers: -1,
    Created: unixSeconds(config.created),
    Id: id,
    Labels: config.config?.Labels ?? null,
    ParentId: parent ?? '',
    RepoDigests: null,
    RepoTags: null,
    SharedSize: -1,
    Size: size,
    VirtualSize: size,
  };
}

/** `system df`'s extra attributes: containers per image, and the size of layers two listed images share. */
function addUsage(ctx: ImageContext, listed: Array<{ summary: ImageSummary; config: ImageConfig }>): void {
  const layerRefs = new Map<Digest, number>();
  for (const { config } of listed) for (const c of chainIds(config.rootfs.diff_ids)) layerRefs.set(c, (layerRefs.get(c) ?? 0) + 1);
  for (const { summary, config } of listed) {
    summary.Containers = ctx.containersUsingImage(summary.Id).length;
    summary.SharedSize = 0;
    for (const c of chainIds(config.rootfs.diff_ids)) {
      if ((layerRefs.get(c) ?? 0) > 1) summary.SharedSize += ctx.store.layers.get(c)?.size ?? 0;
    }
  }
}

/** How many images name each image as parent. */
function childCounts(state: Readonly<NamespaceState>): Map<Digest, number> {
  const counts = new Map<Digest, number>();
  for (const entry of Object.values(state.images)) if (entry.parent) counts.set(entry.parent, (counts.get(entry.parent) ?? 0) + 1);
  return counts;
}

/** `before`/`since`: the creation time of the image the (last) value names; a missing image is a 404. */
async function createdOfLast(ctx: ImageContext, values: readonly string[] | undefined): Promise<number | undefined> {
  if (!values || values.length === 0) return undefined;
  const { id } = getImage(ctx.ns, values[values.length - 1]!);
  return Date.parse((await ctx.store.imageConfig(id)).created ?? '');
}

/**
 * The `reference` filter (reference.FamiliarMatch): a ref is kept when a pattern matches its familiar
 * string or its familiar name. Patterns compile on first use, so a bad one fails only when there is a ref.
 */
function referenceMatcher(patterns: readonly string[] | undefined): (r: ImageRef) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  let compiled: Array<(name: string) => boolean> | undefined;
  return (r) => {
    compiled ??= patterns.map(compileGlob);
    return compiled.some((match) => match(r.familiar) || match(familiarName(r.ref)));
  };
}
