import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Catalog, CatalogEntry } from '../catalog/catalog.ts';
import type { Manifest } from '../catalog/layout.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import { chainIds, hexOf, parseDigest, shortId, type Digest } from '../util/digest.ts';
import { parseConfig } from './config.ts';
import { canonicalString, familiarName, familiarString, parseReference, repositoryOf, type Reference } from './reference.ts';

/** What `docker pull` shows, as moby's puller words it. */
export type PullEvent = { status: string; id?: string };

/**
 * `docker pull` served from the offline catalog until a registry client exists: the same messages a pull
 * from a registry prints (`Pulling from library/busybox`, per-layer `Pull complete` or `Already exists`,
 * `Digest: …`, `Status: …`), and the catalog's "not in the catalog" error for anything else. With no tag,
 * every catalog tag of the repository is pulled (`docker pull -a`).
 */
export async function pullFromCatalog(
  store: Store,
  ns: Namespace,
  catalog: Catalog,
  image: string,
  tag: string | undefined,
  onEvent: (e: PullEvent) => void,
): Promise<void> {
  const ref = pullReference(image, tag);
  const entries = findEntries(catalog, ref);
  // Thrown before anything is printed: the CLI must get a 404, not a stream.
  if (entries.length === 0) throw catalog.notInCatalog(familiarString(ref));
  const allTags = ref.tag === undefined && ref.digest === undefined;
  let newer = false;
  for (const entry of entries) {
    const upToDate = await pullOne(store, ns, catalog, entry, onEvent);
    newer ||= !upToDate;
    if (!allTags) onEvent({ status: `Status: ${upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiarString(parseReference(entry.ref))}` });
  }
  if (allTags) onEvent({ status: `Status: ${newer ? 'Downloaded newer image for' : 'Image is up to date for'} ${familiarName(ref)}` });
}

function pullReference(image: string, tag: string | undefined): Reference {
  const ref = parseReference(image);
  if (!tag) return ref;
  return tag.startsWith('sha256:') ? { ...ref, digest: parseDigest(tag) } : { ...ref, tag: parseReference(`x:${tag}`).tag! };
}

function findEntries(catalog: Catalog, ref: Reference): CatalogEntry[] {
  const repo = repositoryOf(ref);
  const inRepo = catalog.entries.filter((e) => repositoryOf(parseReference(e.ref)) === repo);
  if (ref.digest) return inRepo.filter((e) => e.manifest === ref.digest).slice(0, 1);
  if (ref.tag !== undefined) return inRepo.filter((e) => e.ref === canonicalString(ref));
  return inRepo;
}

/** Import one catalog image, printing its layers; true when the tag already named this image. */
async function pullOne(store: Store, ns: Namespace, catalog: Catalog, entry: CatalogEntry, onEvent: (e: PullEvent) => void): Promise<boolean> {
  const ref = parseReference(entry.ref);
  const manifest = JSON.parse(await fs.readFile(blobPath(catalog, entry.manifest), 'utf8')) as Manifest;
  const configId = parseDigest(manifest.config.digest);
  const config = parseConfig(await fs.readFile(blobPath(catalog, configId)));
  const upToDate = ns.lookupTag(entry.ref) === configId;
  onEvent({ status: `Pulling from ${ref.path}`, id: ref.tag! });
  const chains = chainIds(config.rootfs.diff_ids);
  const present = manifest.layers.map((_, i) => store.layers.get(chains[i]!) !== undefined);
  await catalog.importImage(store, ns, entry);
  await recordDigest(ns, ref, entry.manifest, configId);
  manifest.layers.forEach((layer, i) => {
    onEvent({ status: present[i] ? 'Already exists' : 'Pull complete', id: shortId(layer.digest) });
  });
  onEvent({ status: `Digest: ${entry.manifest}` });
  return upToDate;
}

/** Like a registry pull, remember the manifest digest (it shows as RepoDigests). */
async function recordDigest(ns: Namespace, ref: Reference, manifest: Digest, configId: Digest): Promise<void> {
  const key = canonicalString({ domain: ref.domain, path: ref.path, digest: manifest });
  if (ns.lookupDigest(key) === configId) return;
  await ns.update((draft) => {
    draft.digests[key] = configId;
  });
}

function blobPath(catalog: Catalog, digest: Digest): string {
  return path.join(catalog.dir, 'blobs', 'sha256', hexOf(digest));
}
