import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../../catalog/catalog.ts';
import type { Manifest } from '../../catalog/layout.ts';
import { parseDigest, type Digest } from '../../util/digest.ts';
import { DOCKER_MANIFEST } from '../distribution.ts';
import type { HubContext } from './context.ts';
import { draftRepo, linkBlob } from './hub-state.ts';

/**
 * Publish the offline catalog in the hub (`busybox` → `library/busybox:latest`, with the catalog's
 * description for `docker search`). Blobs are hard-linked from the catalog, so this costs no copies; run at
 * every start, it only adds what is missing and never moves a tag someone pushed since.
 */
export async function publishCatalog(hub: HubContext, catalog: Catalog): Promise<void> {
  await hub.store.gcLock.shared(async () => {
    for (const entry of catalog.entries) {
      const slash = entry.ref.indexOf('/');
      const colon = entry.ref.lastIndexOf(':');
      const repoName = entry.ref.slice(slash + 1, colon);
      const tag = entry.ref.slice(colon + 1);
      if (hub.state.repo(repoName)?.tags[tag]) continue;
      const manifestFile = blobPath(catalog, entry.manifest);
      const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as Manifest;
      const blobs = [manifest.config, ...manifest.layers].map((d) => parseDigest(d.digest));
      for (const d of blobs) await hub.store.blobs.adopt(blobPath(catalog, d), d);
      await hub.store.blobs.adopt(manifestFile, entry.manifest);
      await hub.state.update((draft) => {
        const repo = draftRepo(draft, repoName);
        for (const d of blobs) linkBlob(repo, d);
        repo.manifests[entry.manifest] = manifest.mediaType ?? DOCKER_MANIFEST;
        repo.tags[tag] = entry.manifest;
        if (entry.description) repo.description = entry.description;
      });
    }
  });
}

function blobPath(catalog: Catalog, digest: Digest): string {
  return path.join(catalog.dir, 'blobs', 'sha256', digest.slice(7));
}
