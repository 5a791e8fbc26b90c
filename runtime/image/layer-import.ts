import { createReadStream } from 'node:fs';
import { openMaybeGzip, readSafeTar } from '../archive/tar-reader.ts';
import { invalid } from '../errors.ts';
import { Hasher, sha256, type Digest } from '../util/digest.ts';
import type { LayerRecord } from '../store/layer-store.ts';
import { DOCKER_LAYER_TAR } from './media-types.ts';
import type { Store } from '../store/store.ts';

export interface LayerFileCheck {
  diffId: Digest;
  /** Docker's layer size: file content plus symlink target lengths (moby's directory.Size). */
  size: number;
}

/**
 * Read a layer tar (plain or gzip) from a local file, computing its diffID and checking every entry with the
 * hostile-archive rules, without extracting anything.
 */
export async function checkLayerFile(file: string, store: Store, label = 'layer'): Promise<LayerFileCheck> {
  const hasher = new Hasher();
  const hashing = hasher.tap();
  const source = await openMaybeGzip(createReadStream(file));
  source.on('error', (err) => hashing.destroy(err));
  const plain = source.pipe(hashing);
  let size = 0;
  for await (const entry of readSafeTar(plain, { limits: store.limits, label })) {
    size += entry.kind === 'symlink' ? Buffer.byteLength(entry.linkTarget) : entry.size;
  }
  return { diffId: hasher.digest(), size };
}

/**
 * Register a layer from a local tar file on top of `parent` (a chain ID, or null for a base layer). The file
 * is checked first; with `expectedDiffId` (from an image config) a mismatch is an error. Stores the layer
 * uncompressed (its blob digest is its diffID), as Docker does. Idempotent: an existing chain is returned as is.
 */
export async function registerLayerFile(
  store: Store,
  parent: Digest | null,
  file: string,
  opts: { expectedDiffId?: Digest; label?: string } = {},
): Promise<LayerRecord> {
  const { diffId, size } = await checkLayerFile(file, store, opts.label);
  if (opts.expectedDiffId && opts.expectedDiffId !== diffId) {
    throw invalid(`${opts.label ?? 'layer'} does not match its diff ID: expected ${opts.expectedDiffId}, got ${diffId}`);
  }
  const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
  const existing = store.layers.get(chainId);
  if (existing) return existing;
  const blob = await store.blobs.putStream(await openMaybeGzip(createReadStream(file)), { expected: diffId });
  return store.layers.register({ chainId, diffId, parent, blob: { ...blob, mediaType: DOCKER_LAYER_TAR }, size });
}
