import { promises as fs } from 'node:fs';
import { invalid, notFound } from '../../errors.ts';
import { parseConfig } from '../../image/config.ts';
import { checkLayerFile } from '../../image/layer-import.ts';
import { canonicalString, familiarName, familiarString, parseReference, type Reference } from '../../image/reference.ts';
import type { Namespace } from '../../store/namespace.ts';
import type { Store } from '../../store/store.ts';
import { chainIds, parseDigest, shortId, type Digest } from '../../util/digest.ts';
import { MANIFEST_TYPES, type Descriptor } from '../distribution.ts';
import { downloadBlob, fetchSmallBlob } from './blob-download.ts';
import type { Credentials } from './credentials.ts';
import { resolveEndpoint } from './endpoint.ts';
import { fetchManifest } from './manifest.ts';
import { listTags, notInHubError } from './repository.ts';
import { RegistrySession } from './session.ts';

/** One JSON progress message, as the CLI renders them (engine-api-facts §7.22, §8). */
export type ProgressMessage = Record<string, unknown>;

export interface PullOptions {
  /** A tag or `sha256:` digest; absent means every tag (`docker pull -a`) unless `image` carries one. */
  tag?: string;
  credentials?: Credentials;
  onProgress?: (m: ProgressMessage) => void;
}

const LAYER_TYPES = new Set(['application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar']);
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const PARALLEL_DOWNLOADS = 3;

/**
 * `docker pull` from a registry into a namespace: the embedded hub for `docker.io` names, any registry
 * otherwise. Layers already in the store are not downloaded ("Already exists"); every blob is verified
 * against its digest and every layer against its diff ID before anything is named, so a failed pull
 * leaves no tag behind. This is also what `docker run`/`create` and the builder's FROM call for a missing
 * image. Returns the image ID (the last one for `-a`).
 */
export async function pullImage(engine: { store: Store; ns: Namespace; hostNetns?: string | undefined }, image: string, opts: PullOptions = {}): Promise<Digest> {
  const ref = withTag(parseReference(image), opts.tag);
  const session = new RegistrySession(resolveEndpoint(engine.store, ref.domain, engine.hostNetns), opts.credentials);
  const emit = opts.onProgress ?? (() => undefined);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    const { id, upToDate } = await pullOne(engine, session, ref, emit);
    emit({ status: `Status: ${upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiarString(ref)}` });
    return id;
  }
  const tags = await listTags(session, ref);
  if (tags.length === 0) throw notFound(`repository ${familiarName(ref)} has no tags`);
  let newer = false;
  let id: Digest | undefined;
  for (const tag of tags) {
    const one = await pullOne(engine, session, { ...ref, tag }, emit);
    newer ||= !one.upToDate;
    id = one.id;
  }
  emit({ status: `Status: ${newer ? 'Downloaded newer image for' : 'Image is up to date for'} ${familiarName(ref)}` });
  return id!;
}

function withTag(ref: Reference, tag: string | undefined): Reference {
  if (!tag) return ref;
  return tag.startsWith('sha256:') ? { ...ref, digest: parseDigest(tag) } : { ...ref, tag: parseReference(`x:${tag}`).tag! };
}

async function pullOne(engine: { store: Store; ns: Namespace }, session: RegistrySession, ref: Reference, emit: (m: ProgressMessage) => void) {
  const { store, ns } = engine;
  const reference = ref.digest ?? ref.tag!;
  const fetched = await fetchManifest(session, ref.path, reference, familiarString(ref)).catch(async (err: unknown) => {
    throw ref.domain === 'docker.io' && (await isUnknownRepo(session, ref)) ? await notInHubError(session, ref) : err;
  });
  const { manifest } = fetched;
  if (!manifest.config || !manifest.layers || !MANIFEST_TYPES.includes((manifest.mediaType ?? MANIFEST_TYPES[0]) as (typeof MANIFEST_TYPES)[number])) {
    throw invalid(`unsupported manifest for ${familiarString(ref)}`);
  }
  emit({ status: `Pulling from ${ref.path}`, id: reference });
  return store.gcLock.shared(async () => {
    const configBytes = await fetchSmallBlob(session, ref.path, parseDigest(manifest.config!.digest), MAX_CONFIG_BYTES);
    const config = parseConfig(configBytes);
    const layers = manifest.layers!;
    if (layers.length !== config.rootfs.diff_ids.length) throw invalid(`${familiarString(ref)}: the manifest has ${layers.length} layers but the image config ${config.rootfs.diff_ids.length}`);
    await fetchLayers(store, session, ref.path, layers, chainIds(config.rootfs.diff_ids), config.rootfs.diff_ids, emit);
    const id = await store.putImageConfig(configBytes);
    const named = ref.tag !== undefined ? ns.lookupTag(canonicalString(ref)) : ns.lookupDigest(canonicalString({ domain: ref.domain, path: ref.path, digest: fetched.digest }));
    const upToDate = named === id;
    await nameImage(ns, ref, id, fetched.digest);
    emit({ status: `Digest: ${fetched.digest}` });
    return { id, upToDate };
  });
}

async function isUnknownRepo(session: RegistrySession, ref: Reference): Promise<boolean> {
  return (await listTags(session, ref).catch(() => [])).length === 0;
}

/** Download missing layers in parallel, then register them base first (each needs its parent). */
async function fetchLayers(store: Store, session: RegistrySession, repo: string, layers: Descriptor[], chains: Digest[], diffIds: Digest[], emit: (m: ProgressMessage) => void): Promise<void> {
  const missing = layers.map((l, i) => ({ l, i, digest: parseDigest(l.digest) })).filter(({ i }) => !store.layers.get(chains[i]!));
  // Like moby, an image whose every layer is here prints no layer lines at all.
  if (missing.length === 0) return;
  for (const [i, l] of layers.entries()) {
    if (store.layers.get(chains[i]!)) emit({ status: 'Already exists', progressDetail: {}, id: shortId(l.digest) });
    else emit({ status: 'Pulling fs layer', progressDetail: {}, id: shortId(l.digest) });
  }
  for (const { l } of missing) if (!LAYER_TYPES.has(l.mediaType)) throw invalid(`unsupported layer media type ${JSON.stringify(l.mediaType.slice(0, 100))}`);
  const files = new Map<number, string>();
  try {
    const queue = [...missing];
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const id = shortId(job.digest);
        const total = job.l.size;
        files.set(job.i, await downloadBlob(session, repo, job.digest, { tmpDir: store.tmpDir, maxBytes: store.limits.maxBytes, onBytes: (current) => emit({ status: 'Downloading', progressDetail: { current, total }, id }) }));
        emit({ status: 'Verifying Checksum', progressDetail: {}, id });
        emit({ status: 'Download complete', progressDetail: {}, id });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, missing.length) }, worker));
    for (const { l, i, digest } of missing) {
      const file = files.get(i)!;
      const check = await checkLayerFile(file, store);
      if (check.diffId !== diffIds[i]) throw invalid(`layer ${digest} does not match its diff ID: expected ${diffIds[i]}, got ${check.diffId}`);
      await store.blobs.adopt(file, digest);
      await store.layers.register({ chainId: chains[i]!, diffId: check.diffId, parent: i === 0 ? null : chains[i - 1]!, blob: { digest, size: l.size, mediaType: l.mediaType }, size: check.size });
      emit({ status: 'Pull complete', progressDetail: {}, id: shortId(digest) });
    }
  } finally {
    for (const f of files.values()) await fs.rm(f, { force: true });
  }
}

/** Tag the image and remember the manifest digest it came from (RepoDigests). */
async function nameImage(ns: Namespace, ref: Reference, id: Digest, manifestDigest: Digest): Promise<void> {
  const now = new Date().toISOString();
  await ns.update((draft) => {
    draft.images[id] ??= { added: now };
    if (ref.tag !== undefined) {
      draft.tags[canonicalString({ domain: ref.domain, path: ref.path, tag: ref.tag })] = id;
      draft.images[id].lastTagTime = now;
    }
    draft.digests[canonicalString({ domain: ref.domain, path: ref.path, digest: manifestDigest })] = id;
  });
}
