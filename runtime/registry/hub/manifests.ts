import { isDigest, sha256, type Digest } from '../../util/digest.ts';
import { INDEX_TYPES, isTag, MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST, RegistryError, type ManifestDoc } from '../distribution.ts';
import { readBody, send, type HubRequest } from './context.ts';
import { draftRepo, type HubRepo } from './hub-state.ts';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<tag-or-digest>`. */
export async function manifestRoute(r: HubRequest, reference: string): Promise<void> {
  if (!isDigest(reference) && !isTag(reference)) throw new RegistryError('TAG_INVALID', { Tag: reference.slice(0, 150) }, 'invalid tag');
  const method = r.req.method;
  if (method === 'PUT') return putManifest(r, reference);
  if (method === 'DELETE') return deleteManifest(r, reference);
  const repo = r.hub.state.repo(r.name);
  const digest = resolve(repo, reference);
  const mediaType = repo!.manifests[digest]!;
  const accept = acceptList(r.req.headers.accept);
  // distribution 2.8 hides OCI content from clients that did not ask for it (builder-facts §5.5).
  if ((mediaType === OCI_MANIFEST || mediaType === OCI_INDEX) && !accept.includes(mediaType)) {
    throw new RegistryError('MANIFEST_UNKNOWN', null, `OCI ${mediaType === OCI_INDEX ? 'index' : 'manifest'} found, but accept header does not support OCI ${mediaType === OCI_INDEX ? 'indexes' : 'manifests'}`);
  }
  const bytes = await r.hub.store.blobs.read(digest);
  send(r.res, 200, { 'Content-Type': mediaType, 'Docker-Content-Digest': digest, Etag: `"${digest}"` }, bytes);
}

function resolve(repo: HubRepo | undefined, reference: string): Digest {
  const digest = isDigest(reference) ? reference : repo?.tags[reference];
  if (!repo || !digest || !Object.hasOwn(repo.manifests, digest)) {
    throw new RegistryError('MANIFEST_UNKNOWN', isDigest(reference) ? { Digest: reference } : { Tag: reference });
  }
  return digest;
}

function acceptList(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.split(';')[0]!.trim());
}

/**
 * Store a manifest's exact bytes under their digest. Everything it references must already be in this
 * repository, so a manifest never becomes visible before its content.
 */
async function putManifest(r: HubRequest, reference: string): Promise<void> {
  const bytes = await readBody(r.req, MAX_MANIFEST_BYTES);
  const digest = sha256(bytes);
  if (isDigest(reference) && reference !== digest) throw new RegistryError('DIGEST_INVALID', { Digest: reference });
  const doc = parseManifest(bytes, r.req.headers['content-type']);
  const { store, state } = r.hub;
  await store.gcLock.shared(async () => {
    const repo = state.repo(r.name);
    for (const d of referencedBlobs(doc.doc)) if (!repo?.blobs.includes(d) || !(await store.blobs.has(d))) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', d);
    for (const d of referencedManifests(doc.doc)) if (!repo || !Object.hasOwn(repo.manifests, d)) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', d);
    await store.blobs.put(bytes);
    await state.update((draft) => {
      const d = draftRepo(draft, r.name);
      d.manifests[digest] = doc.mediaType;
      if (!isDigest(reference)) d.tags[reference] = digest;
    });
  });
  send(r.res, 201, { Location: `${r.hub.baseUrl}/v2/${r.name}/manifests/${digest}`, 'Docker-Content-Digest': digest });
}

function parseManifest(bytes: Buffer, contentType: string | undefined): { doc: ManifestDoc; mediaType: string } {
  let doc: ManifestDoc;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ManifestDoc;
  } catch {
    throw new RegistryError('MANIFEST_INVALID', null, 'manifest invalid: not JSON');
  }
  const mediaType = typeof doc?.mediaType === 'string' ? doc.mediaType : (contentType ?? '').split(';')[0]!.trim();
  const isManifest = (MANIFEST_TYPES as readonly string[]).includes(mediaType);
  const isIndex = (INDEX_TYPES as readonly string[]).includes(mediaType);
  if (doc?.schemaVersion !== 2 || (!isManifest && !isIndex)) throw new RegistryError('MANIFEST_INVALID', null, `manifest invalid: unsupported manifest type ${JSON.stringify(mediaType.slice(0, 100))}`);
  const descriptors = isManifest ? [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : [undefined])] : Array.isArray(doc.manifests) ? doc.manifests : [undefined];
  for (const d of descriptors) {
    if (!d || typeof d.digest !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size)) throw new RegistryError('MANIFEST_INVALID', null, 'manifest invalid: bad descriptor');
  }
  return { doc, mediaType };
}

function referencedBlobs(doc: ManifestDoc): Digest[] {
  return doc.config ? [doc.config, ...(doc.layers ?? [])].map((d) => d.digest as Digest) : [];
}

function referencedManifests(doc: ManifestDoc): Digest[] {
  return (doc.manifests ?? []).map((d) => d.digest as Digest);
}

/** Delete by digest removes the manifest and every tag on it; distribution 2.8 refuses deletes by tag. */
async function deleteManifest(r: HubRequest, reference: string): Promise<void> {
  if (!isDigest(reference)) throw new RegistryError('DIGEST_INVALID', null, 'delete a manifest by its digest, not by tag');
  resolve(r.hub.state.repo(r.name), reference);
  await r.hub.state.update((draft) => {
    const d = draftRepo(draft, r.name);
    delete d.manifests[reference];
    for (const [tag, target] of Object.entries(d.tags)) if (target === reference) delete d.tags[tag];
  });
  send(r.res, 202);
}
