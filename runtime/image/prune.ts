import { conflict, EngineError } from '../errors.ts';
import type { Namespace, NamespaceState } from '../store/namespace.ts';
import { hexOf, type Digest } from '../util/digest.ts';
import type { ImageContext } from './context.ts';
import { deleteImage, type DeleteRecord } from './delete-rules.ts';
import { danglingFilter, matchPruneLabels, validateFilters, type Filters } from './filters.ts';
import { refsOf } from './refs.ts';
import { reclaimLayers } from './remove.ts';
import { untilFromFilters } from './timestamp.ts';

/** `POST /images/prune`'s reply (Go's types.ImagesPruneReport). */
export interface PruneReport {
  ImagesDeleted: DeleteRecord[] | null;
  SpaceReclaimed: number;
}

const ACCEPTED = ['dangling', 'label', 'label!', 'until'] as const;
const running = new WeakSet<Namespace>();

/**
 * `docker image prune`, following dockerd's ImagesPrune: by default only dangling images (untagged, no
 * children); with `dangling=false` (`-a`) every image no container uses. Each candidate goes through the
 * ordinary delete rules without force, so conflicts just skip it. One prune per namespace at a time.
 */
export async function pruneImages(ctx: ImageContext, filters: Filters): Promise<PruneReport> {
  if (running.has(ctx.ns)) throw conflict('a prune operation is already running');
  running.add(ctx.ns);
  try {
    validateFilters(filters, ACCEPTED);
    const danglingOnly = danglingFilter(filters, true) !== false;
    const until = untilFromFilters(filters.get('until'));
    const candidates = await pruneCandidates(ctx, filters, danglingOnly, until);
    const records = await ctx.ns.update((draft) => candidates.flatMap((id) => pruneOne(ctx, draft, id, danglingOnly)));
    const { records: all, reclaimed } = await reclaimLayers(ctx, records);
    return { ImagesDeleted: all.length > 0 ? all : null, SpaceReclaimed: reclaimed };
  } finally {
    running.delete(ctx.ns);
  }
}

/** Top images (not untagged intermediates) that pass `until` and the label filters, newest first. */
async function pruneCandidates(ctx: ImageContext, filters: Filters, danglingOnly: boolean, until: number | undefined): Promise<Digest[]> {
  const state = ctx.ns.snapshot();
  const parents = new Set(Object.values(state.images).flatMap((e) => (e.parent ? [e.parent] : [])));
  const found: Array<{ id: Digest; created: number }> = [];
  for (const id of Object.keys(state.images) as Digest[]) {
    if (parents.has(id) && (danglingOnly || refsOf(state, id).length === 0)) continue;
    const config = await ctx.store.imageConfig(id).catch(() => undefined);
    if (!config) continue;
    const created = Date.parse(config.created ?? '');
    if (until !== undefined && created > until) continue;
    if (config.config && !matchPruneLabels(filters, config.config.Labels)) continue;
    found.push({ id, created: Number.isNaN(created) ? 0 : created });
  }
  return found.sort((a, b) => b.created - a.created).map((f) => f.id);
}

/** Delete one candidate through its references (or its ID when it has none); conflicts skip it. */
function pruneOne(ctx: ImageContext, draft: NamespaceState, id: Digest, danglingOnly: boolean): DeleteRecord[] {
  if (!draft.images[id]) return [];
  const refs = refsOf(draft, id);
  if (refs.length === 0) return tryDelete(ctx, draft, id, hexOf(id));
  // Dangling-only prunes still take images known only by digest (`repo:<none>`), never tagged ones.
  if (danglingOnly && refs.some((r) => !r.digested)) return [];
  return refs.flatMap((r) => ((r.digested ? draft.digests : draft.tags)[r.canonical] === id ? tryDelete(ctx, draft, id, r.canonical) : []));
}

function tryDelete(ctx: ImageContext, draft: NamespaceState, id: Digest, input: string): DeleteRecord[] {
  try {
    return deleteImage(draft, id, input, { force: false, prune: true }, ctx.containersUsingImage);
  } catch (err) {
    if (err instanceof EngineError) return [];
    throw err;
  }
}
