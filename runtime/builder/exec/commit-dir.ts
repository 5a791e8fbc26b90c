import { promises as fs } from 'node:fs';
import { packDirectory, type PackTally } from '../../archive/pack-dir.ts';
import { DOCKER_LAYER_TAR } from '../../image/media-types.ts';
import type { Store } from '../../store/store.ts';
import { sha256, type Digest } from '../../util/digest.ts';
import type { CommittedLayer } from './executor.ts';

/**
 * The standard Executor.commit: pack the directory with pack-dir (lexical order, whiteouts converted for
 * overlay upper dirs) straight into the blob store as an uncompressed tar, so its blob digest is its diffID
 * (Docker too keeps built layers plain and compresses only to push), and register it as a layer. An empty
 * directory is an empty layer (null), as Docker's empty-tar diff ID is. A plain directory (not an overlay
 * upper dir) gets the times its tar entries carry and then becomes the layer's extracted directory, so the
 * next step or container does not extract the tar again; the caller's `dir` is then gone. Call it under
 * store.gcLock.shared, held until the image that uses the layer is named, so GC cannot take the layer first.
 */
export async function commitDirectory(store: Store, dir: string, parent: Digest | null, opts: { overlayUpper: boolean }): Promise<CommittedLayer> {
  if ((await fs.readdir(dir)).length === 0) return null;
  const tally: PackTally = { entries: 0, size: 0, divergent: 0 };
  const adopt = !opts.overlayUpper;
  const packed = packDirectory(dir, { overlayUpper: opts.overlayUpper, tally, maxEntries: store.limits.maxEntries, settleTimes: adopt });
  const blob = await store.blobs.putStream(packed, { maxBytes: store.limits.maxBytes });
  const diffId = blob.digest;
  const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
  const layer =
    store.layers.get(chainId) ?? (await store.layers.register({ chainId, diffId, parent, blob: { ...blob, mediaType: DOCKER_LAYER_TAR }, size: tally.size }));
  if (adopt && tally.divergent === 0) await store.layers.adoptDiff(chainId, dir);
  return layer;
}
