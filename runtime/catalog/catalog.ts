import { promises as fs } from 'node:fs';
import path from 'node:path';
import { notFound } from '../errors.ts';
import { canonicalString, familiarString, parseTaggedReference } from '../image/reference.ts';
import { LAYER_MEDIA_TYPE } from '../store/layer-store.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import { chainIds, parseDigest, type Digest } from '../util/digest.ts';
import { readJsonIfExists } from '../util/fsx.ts';
import { DESCRIPTION_ANNOTATION, LAYER_SIZE_ANNOTATION, REF_NAME_ANNOTATION, SYSTEM_ANNOTATION, type LayoutIndex, type Manifest } from './layout.ts';

export interface CatalogEntry {
  /** Canonical reference, e.g. `docker.io/library/busybox:latest`. */
  ref: string;
  /** Familiar form, e.g. `busybox:latest`. */
  name: string;
  description: string;
  manifest: Digest;
  /** One of layerlab's own images (the sandbox terminal): left out of `entries`, imported only by `importSystemImage`. */
  system: boolean;
}

/**
 * The offline base images, read from an OCI image layout built at setup from Debian packages. Importing an
 * image into a namespace links its blobs into the store (no copy) and names it.
 */
export class Catalog {
  /** The learners' images: what a fresh namespace holds, `docker pull` finds and the hub publishes. */
  readonly entries: readonly CatalogEntry[];
  /** layerlab's own images, imported only through `importSystemImage`. */
  readonly systemEntries: readonly CatalogEntry[];

  private constructor(
    readonly dir: string,
    all: readonly CatalogEntry[],
  ) {
    this.entries = all.filter((e) => !e.system);
    this.systemEntries = all.filter((e) => e.system);
  }

  static async open(dir: string): Promise<Catalog> {
    const index = await readJsonIfExists<LayoutIndex>(path.join(dir, 'index.json'));
    const entries: CatalogEntry[] = [];
    for (const m of index?.manifests ?? []) {
      const refName = m.annotations?.[REF_NAME_ANNOTATION];
      if (!refName) continue;
      const ref = parseTaggedReference(refName);
      entries.push({
        ref: canonicalString(ref),
        name: familiarString(ref),
        description: m.annotations?.[DESCRIPTION_ANNOTATION] ?? '',
        manifest: parseDigest(m.digest),
        system: m.annotations?.[SYSTEM_ANNOTATION] === 'true',
      });
    }
    return new Catalog(dir, entries);
  }

  /** Familiar names of everything in the catalog, for "not in the catalog" errors. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  find(canonicalRef: string): CatalogEntry | undefined {
    return this.entries.find((e) => e.ref === canonicalRef);
  }

  /** The error for a name the catalog does not have, listing what it does have. */
  notInCatalog(name: string): Error {
    const list = this.names().join(', ') || '(the catalog is empty: run `npm run setup`)';
    return notFound(`pull access denied for ${name}: layerlab works offline and ${name} is not in its image catalog. Available images: ${list}`);
  }

  /** Import every learner image (not the system ones) into a namespace. */
  async importAll(store: Store, ns: Namespace): Promise<void> {
    for (const entry of this.entries) await this.importImage(store, ns, entry);
  }

  /**
   * Import one system image by its name (`layerlab/shell`; no tag means `latest`) into a namespace, for
   * layerlab's own use. Returns the image ID; a name that is not a system image is a not-found error.
   */
  async importSystemImage(store: Store, ns: Namespace, name: string): Promise<Digest> {
    const ref = canonicalString(parseTaggedReference(name));
    const entry = this.systemEntries.find((e) => e.ref === ref);
    if (!entry) throw notFound(`${name} is not a system image of layerlab's catalog (run \`npm run setup\`)`);
    return this.importImage(store, ns, entry);
  }

  /**
   * Extract the layers of every catalog image the store knows, one image at a time (a learner's first `docker
   * run node` then finds its 200 MB layer ready instead of waiting for it). Extracted layers are kept, so
   * this is work once per store; a layer a container needs meanwhile is extracted once, by whichever asks first.
   */
  async extractLayers(store: Store): Promise<void> {
    for (const entry of [...this.entries, ...this.systemEntries]) {
      const manifest = await this.manifestOf(entry);
      const config = JSON.parse(await fs.readFile(this.blobPath(parseDigest(manifest.config.digest)), 'utf8')) as { rootfs: { diff_ids: Digest[] } };
      const top = chainIds(config.rootfs.diff_ids).at(-1);
      await store.gcLock.shared(async () => {
        if (top && store.layers.get(top)) await store.layers.lowerDirs(top);
      });
    }
  }

  /** Bring one catalog image into a namespace, tagged with its catalog name. Returns the image ID. */
  importImage(store: Store, ns: Namespace, entry: CatalogEntry): Promise<Digest> {
    return store.gcLock.shared(async () => {
      const manifest = await this.manifestOf(entry);
      const configDigest = parseDigest(manifest.config.digest);
      await store.blobs.adopt(this.blobPath(configDigest), configDigest);
      await store.blobs.adopt(this.blobPath(entry.manifest), entry.manifest);
      const config = await store.imageConfig(configDigest);
      const chains = chainIds(config.rootfs.diff_ids);
      for (const [i, layer] of manifest.layers.entries()) {
        const chainId = chains[i]!;
        if (store.layers.get(chainId)) continue;
        const digest = parseDigest(layer.digest);
        await store.blobs.adopt(this.blobPath(digest), digest);
        await store.layers.register({
          chainId,
          diffId: config.rootfs.diff_ids[i]!,
          parent: i === 0 ? null : chains[i - 1]!,
          blob: { digest, size: layer.size, mediaType: LAYER_MEDIA_TYPE },
          size: Number(layer.annotations?.[LAYER_SIZE_ANNOTATION] ?? 0),
        });
      }
      const now = new Date().toISOString();
      await ns.update((draft) => {
        draft.images[configDigest] ??= { added: now, blobs: [entry.manifest] };
        draft.images[configDigest].lastTagTime = now;
        draft.tags[entry.ref] = configDigest;
      });
      return configDigest;
    });
  }

  private async manifestOf(entry: CatalogEntry): Promise<Manifest> {
    return JSON.parse(await fs.readFile(this.blobPath(entry.manifest), 'utf8')) as Manifest;
  }

  private blobPath(digest: Digest): string {
    return path.join(this.dir, 'blobs', 'sha256', digest.slice(7));
  }
}
