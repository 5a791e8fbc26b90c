import { invalid, notFound } from '../../errors.ts';
import { isDigest, sha256, type Digest } from '../../util/digest.ts';
import { INDEX_TYPES, PULL_ACCEPT, type Descriptor, type ManifestDoc } from '../distribution.ts';
import type { RegistrySession } from './session.ts';

export interface FetchedManifest {
  /** Digest of the top-level document (an index when the registry has one): what `Digest:` prints. */
  digest: Digest;
  /** The image manifest for linux/amd64. */
  manifest: ManifestDoc;
  manifestDigest: Digest;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * GET a manifest by tag or digest with Docker's Accept list, verify its digest over the exact bytes, and
 * descend from an index to its linux/amd64 manifest.
 */
export async function fetchManifest(session: RegistrySession, repo: string, reference: string, displayName: string): Promise<FetchedManifest> {
  const top = await getDocument(session, repo, reference, displayName);
  if (!INDEX_TYPES.includes(top.mediaType as (typeof INDEX_TYPES)[number])) return { digest: top.digest, manifest: top.doc, manifestDigest: top.digest };
  const pick = pickPlatform(top.doc.manifests ?? []);
  if (!pick) throw notFound(`no matching manifest for linux/amd64 in the manifest list entries`);
  const child = await getDocument(session, repo, pick.digest, displayName);
  return { digest: top.digest, manifest: child.doc, manifestDigest: child.digest };
}

async function getDocument(session: RegistrySession, repo: string, reference: string, displayName: string) {
  const res = await session.request('GET', `/v2/${repo}/manifests/${reference}`, { scope: [`repository:${repo}:pull`], headers: { Accept: PULL_ACCEPT.join(', ') }, expect: [404] });
  if (res.status === 404) {
    await res.body?.cancel();
    throw notFound(`manifest for ${displayName} not found: manifest unknown: manifest unknown`);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(`manifest for ${displayName} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const digest = sha256(bytes);
  if (isDigest(reference) && reference !== digest) throw invalid(`manifest verification failed for digest ${reference}`);
  let doc: ManifestDoc;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ManifestDoc;
  } catch {
    throw invalid(`the manifest for ${displayName} is not valid JSON`);
  }
  const mediaType = doc.mediaType ?? (res.headers.get('content-type') ?? '').split(';')[0]!;
  if (doc.schemaVersion !== 2) throw invalid(`unsupported manifest format for ${displayName} (schema ${doc.schemaVersion})`);
  return { digest, doc, mediaType };
}

function pickPlatform(entries: Descriptor[]): Descriptor | undefined {
  return entries.find((e) => e.platform?.os === 'linux' && e.platform.architecture === 'amd64' && isDigest(e.digest));
}
