import { quote } from '../archive/tar-path.ts';
import { invalid } from '../errors.ts';
import { isDigest, sha256, type Digest } from '../util/digest.ts';
import type { ArchiveFile, ReceivedArchive } from './load-archive.ts';
import { checkNamedDigest, hostArch, makePlan, parseJson, type ImagePlan } from './load-plan.ts';
import { parseReference, type Reference } from './reference.ts';

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
/** Layer encodings the store can take: plain or gzip tar (zstd is refused with a clear message). */
const LAYER_TYPE = /^application\/vnd\.(oci\.image\.layer(\.nondistributable)?\.v1\.tar(\+gzip)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip)?)$/;
const NAME_ANNOTATION = 'io.containerd.image.name';
const REF_ANNOTATION = 'org.opencontainers.image.ref.name';
const MAX_DEPTH = 4;

/**
 * The images of an OCI image layout (`index.json` + `blobs/sha256/…`, what Docker ≥25 and other tools write).
 * Every blob is checked against its descriptor's digest and size; an index picks this machine's platform.
 */
export async function fromOciIndex(archive: ReceivedArchive): Promise<ImagePlan[]> {
  const index = parseJson(await archive.read('index.json', 'index'), 'index.json') as { manifests?: unknown };
  if (!Array.isArray(index?.manifests) || index.manifests.length === 0) throw invalid('invalid image archive: index.json lists no manifests');
  const plans = new Map<Digest, ImagePlan>();
  for (const desc of index.manifests as Descriptor[]) {
    const plan = await fromDescriptor(archive, desc, 0);
    const ref = nameOf(desc);
    const existing = plans.get(plan.id);
    if (existing) {
      if (ref) existing.tags.push(ref);
    } else plans.set(plan.id, { ...plan, tags: ref ? [ref] : [] });
  }
  return [...plans.values()];
}

async function fromDescriptor(archive: ReceivedArchive, desc: Descriptor, depth: number): Promise<ImagePlan> {
  if (depth > MAX_DEPTH) throw invalid('invalid image archive: image indexes are nested too deeply');
  const bytes = await readBlob(archive, desc, 'manifest');
  const doc = parseJson(bytes, `blob ${desc.digest}`) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  const type = desc.mediaType ?? doc.mediaType ?? '';
  if (INDEX_TYPES.includes(type)) return fromDescriptor(archive, pickPlatform(doc.manifests ?? []), depth + 1);
  if (!MANIFEST_TYPES.includes(type)) throw invalid(`invalid image archive: unsupported manifest media type ${quote(type)}`);
  if (!doc.config || !Array.isArray(doc.layers)) throw invalid(`invalid image archive: manifest ${desc.digest} has no config or layers`);
  const config = await readBlob(archive, doc.config, 'config');
  const layers = doc.layers.map((layer) => {
    if (!LAYER_TYPE.test(layer.mediaType ?? '')) throw invalid(`unsupported layer media type ${quote(layer.mediaType ?? '')}: layerlab stores plain or gzip tar layers`);
    return { name: blobName(layer, 'layer'), data: blobFile(archive, layer, 'layer') };
  });
  return makePlan(blobName(doc.config, 'config'), config, layers, []);
}

/** The manifest for linux on this machine's architecture (attestations and other platforms are skipped). */
function pickPlatform(manifests: Descriptor[]): Descriptor {
  const arch = hostArch();
  const match = manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? (manifests.length === 1 && !manifests[0]!.platform ? manifests[0] : undefined);
  if (!match) throw invalid(`invalid image archive: its image index has no linux/${arch} image`);
  return match;
}

/** A tagged name from the descriptor's annotations: containerd's full name, or a full ref.name. */
function nameOf(desc: Descriptor): Reference | undefined {
  const candidates = [desc.annotations?.[NAME_ANNOTATION], desc.annotations?.[REF_ANNOTATION]];
  for (const name of candidates) {
    if (!name || !/[:/]/.test(name)) continue; // a bare ref.name is only a tag, with no repository to put it in
    try {
      const ref = parseReference(name);
      if (ref.tag !== undefined && !ref.digest) return ref;
    } catch {
      continue;
    }
  }
  return undefined;
}

function blobName(desc: Descriptor, what: string): string {
  if (typeof desc.digest !== 'string' || !isDigest(desc.digest)) throw invalid(`invalid image archive: ${what} descriptor has an invalid digest ${quote(String(desc.digest))}`);
  return `blobs/sha256/${desc.digest.slice(7)}`;
}

function blobFile(archive: ReceivedArchive, desc: Descriptor, what: string): ArchiveFile {
  const name = blobName(desc, what);
  const data = archive.file(name, what);
  checkNamedDigest(name, data.digest, what);
  if (typeof desc.size === 'number' && desc.size !== data.size) throw invalid(`invalid image archive: ${what} ${quote(name)} has ${data.size} bytes, its descriptor says ${desc.size}`);
  return data;
}

async function readBlob(archive: ReceivedArchive, desc: Descriptor, what: string): Promise<Buffer> {
  blobFile(archive, desc, what);
  const bytes = await archive.read(blobName(desc, what), what);
  if (sha256(bytes) !== desc.digest) throw invalid(`invalid image archive: ${what} ${desc.digest} does not match its digest`);
  return bytes;
}
