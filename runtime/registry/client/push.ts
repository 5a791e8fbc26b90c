import { notFound } from '../../errors.ts';
import { canonicalString, familiarName, parseReference, repositoryOf, type Reference } from '../../image/reference.ts';
import type { LayerRecord } from '../../store/layer-store.ts';
import type { Namespace } from '../../store/namespace.ts';
import type { Store } from '../../store/store.ts';
import { chainIds, shortId, sha256, type Digest } from '../../util/digest.ts';
import { DOCKER_CONFIG, DOCKER_MANIFEST } from '../distribution.ts';
import { ensureBlob } from './blob-upload.ts';
import { pushableLayer } from './push-layer.ts';
import type { Credentials } from './credentials.ts';
import { resolveEndpoint } from './endpoint.ts';
import type { ProgressMessage } from './pull.ts';
import { RegistrySession } from './session.ts';

export interface PushOptions {
  /** Tag to push; absent pushes every local tag of the repository. */
  tag?: string;
  credentials?: Credentials;
  onProgress?: (m: ProgressMessage) => void;
}

const OUTCOME_TEXT = { exists: 'Layer already exists', pushed: 'Pushed' } as const;

/**
 * `docker push`: upload an image's layers and config to its registry (HEAD checks first, cross-repository
 * mounts from other repositories of the same registry that hold the layer), then PUT a Docker v2 schema 2
 * manifest and print moby's `<tag>: digest: … size: …` line. The manifest goes last, so a failed push
 * never makes a tag visible.
 */
export async function pushImage(engine: { store: Store; ns: Namespace; hostNetns?: string | undefined }, image: string, opts: PushOptions = {}): Promise<void> {
  const base = parseReference(image);
  const emit = opts.onProgress ?? (() => undefined);
  const tags = opts.tag ? [opts.tag] : base.tag ? [base.tag] : localTags(engine.ns, base);
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(base)}`);
  const session = new RegistrySession(resolveEndpoint(engine.store, base.domain, engine.hostNetns), opts.credentials);
  emit({ status: `The push refers to repository [${repositoryOf(base)}]` });
  for (const tag of tags) {
    const ref = { domain: base.domain, path: base.path, tag };
    const id = engine.ns.lookupTag(canonicalString(ref));
    if (!id) throw notFound(`An image does not exist locally with the tag: ${familiarName(base)}`);
    await pushOne(engine, session, ref, id, emit);
  }
}

function localTags(ns: Namespace, ref: Reference): string[] {
  const prefix = `${repositoryOf(ref)}:`;
  return Object.keys(ns.snapshot().tags)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort();
}

async function pushOne(engine: { store: Store; ns: Namespace }, session: RegistrySession, ref: Reference & { tag: string }, id: Digest, emit: (m: ProgressMessage) => void): Promise<void> {
  const { store } = engine;
  // No GC lock here: the image is tagged, so GC keeps it, and the hub's own writes take that lock (shared),
  // which must never wait behind a collector that waits for this push.
  const layers = await store.imageLayers(id);
  const top = [...layers].reverse();
  for (const l of top) emit({ status: 'Preparing', progressDetail: {}, id: shortId(l.diffId) });
  const sent = new Map<Digest, Descriptor>();
  for (const l of top) {
    const short = shortId(l.diffId);
    const blob = await pushableLayer(store, l);
    try {
      const result = await ensureBlob(session, ref.path, blob, {
        mountFrom: await mountCandidates(engine, ref, l),
        onBytes: (current) => emit({ status: 'Pushing', progressDetail: { current, total: blob.size }, id: short }),
      });
      emit({ status: result.outcome === 'mounted' ? `Mounted from ${result.from}` : OUTCOME_TEXT[result.outcome], progressDetail: {}, id: short });
    } finally {
      await blob.release();
    }
    sent.set(l.chainId, { mediaType: blob.mediaType, size: blob.size, digest: blob.digest });
  }
  const configSize = await store.blobs.size(id);
  await ensureBlob(session, ref.path, { digest: id, size: configSize, file: store.blobs.path(id) });
  const manifest = Buffer.from(JSON.stringify(manifestOf(id, configSize, layers.map((l) => sent.get(l.chainId)!)), null, 3));
  await session.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, {
    scope: [`repository:${ref.path}:push,pull`],
    headers: { 'Content-Type': DOCKER_MANIFEST },
    body: manifest,
  });
  // Our own hash of the bytes we sent, not the registry's header: that is what the digest means.
  const digest = sha256(manifest);
  await engine.ns.update((draft) => {
    draft.digests[canonicalString({ domain: ref.domain, path: ref.path, digest })] = id;
  });
  emit({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
  emit({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifest.length } });
}

interface Descriptor {
  mediaType: string;
  size: number;
  digest: Digest;
}

/** A Docker v2 schema 2 manifest over the layers as sent (base first). */
function manifestOf(configId: Digest, configSize: number, layers: Descriptor[]) {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: configSize, digest: configId },
    layers,
  };
}

/**
 * Other repositories of the same registry this namespace knows to hold the layer (the image it was
 * pulled as or built from): the registry can link the blob instead of receiving it again.
 */
async function mountCandidates(engine: { store: Store; ns: Namespace }, ref: Reference, layer: LayerRecord): Promise<string[]> {
  const snapshot = engine.ns.snapshot();
  const candidates = new Set<string>();
  for (const [key, imageId] of [...Object.entries(snapshot.tags), ...Object.entries(snapshot.digests)]) {
    if (candidates.size >= 3) break;
    let other: Reference;
    try {
      other = parseReference(key);
    } catch {
      continue;
    }
    if (other.domain !== ref.domain || other.path === ref.path || candidates.has(other.path)) continue;
    const config = await engine.store.imageConfig(imageId).catch(() => undefined);
    if (config && chainIds(config.rootfs.diff_ids).includes(layer.chainId)) candidates.add(other.path);
  }
  return [...candidates];
}
