import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from '../archive/limits.ts';
import { invalid, notFound } from '../errors.ts';
import { parseConfig, serializeConfig, type ImageConfig } from '../image/config.ts';
import { chainIds, type Digest } from '../util/digest.ts';
import { syncPath, removeStaleTemps } from '../util/fsx.ts';
import { ReadWriteLock } from '../util/locks.ts';
import { BlobStore } from './blob-store.ts';
import { LayerStore, type LayerRecord } from './layer-store.ts';
import { checkNamespaceName, Namespace } from './namespace.ts';

/**
 * Something outside the image store that keeps content alive: images and layers (containers, running builds)
 * or raw blobs (the embedded registry's manifests and layers).
 */
export type RootProvider = () => { images?: Iterable<Digest>; layers?: Iterable<Digest>; blobs?: Iterable<Digest> };

export interface GcResult {
  deletedImages: Digest[];
  deletedLayers: Digest[];
  reclaimedBytes: number;
}

/**
 * The content-addressed image store shared by every namespace: blobs, layers by chain ID, image configs,
 * and the namespaces that give them names. Nothing here knows about HTTP or containers.
 */
export class Store {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  /** Held shared by operations that add content, exclusively by garbage collection. */
  readonly gcLock = new ReadWriteLock();
  private readonly namespaces = new Map<string, Promise<Namespace>>();
  private readonly configs = new Map<Digest, ImageConfig>();
  private readonly roots: RootProvider[] = [];

  private constructor(
    readonly root: string,
    readonly limits: ArchiveLimits,
  ) {
    this.blobs = new BlobStore(path.join(root, 'blobs'));
    this.layers = new LayerStore(path.join(root, 'layers'), this.blobs, limits);
  }

  static async open(root: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<Store> {
    // 0700: extracted layers keep their set-id binaries; no unprivileged host user may reach them.
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
    await fs.chmod(root, 0o700);
    const store = new Store(root, limits);
    await store.blobs.init();
    await store.layers.init();
    await fs.mkdir(store.namespaceDir, { recursive: true, mode: 0o700 });
    await removeStaleTemps(store.namespaceDir);
    await fs.rm(store.tmpDir, { recursive: true, force: true });
    await fs.mkdir(store.tmpDir, { recursive: true, mode: 0o700 });
    return store;
  }

  /** Scratch space on the store's filesystem, emptied at every start. */
  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  private get namespaceDir(): string {
    return path.join(this.root, 'namespaces');
  }

  namespace(name: string): Promise<Namespace> {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = Namespace.open(this.namespaceDir, name);
      ns.catch(() => this.namespaces.delete(name));
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /**
   * Forget a namespace (a destroyed sandbox's): its names go at once; the images only it held stay until the
   * next garbage collection. Its engine must be closed (nothing may write the namespace any more).
   */
  async removeNamespace(name: string): Promise<void> {
    const file = path.join(this.namespaceDir, `${checkNamespaceName(name)}.json`);
    await this.namespaces.get(name)?.catch(() => undefined);
    this.namespaces.delete(name);
    await fs.rm(file, { force: true });
    await syncPath(this.namespaceDir);
  }

  /** Add a source of GC roots; returns the function that removes it again. */
  addRootProvider(provider: RootProvider): () => void {
    this.roots.push(provider);
    return () => {
      const at = this.roots.indexOf(provider);
      if (at >= 0) this.roots.splice(at, 1);
    };
  }

  /** Parsed config of an image ID (cached; configs never change). */
  async imageConfig(id: Digest): Promise<ImageConfig> {
    let config = this.configs.get(id);
    if (!config) {
      const bytes = await this.blobs.read(id).catch(() => {
        throw notFound(`No such image: ${id}`);
      });
      config = parseConfig(bytes);
      this.configs.set(id, config);
    }
    return config;
  }

  /**
   * Store an image config whose layers are all registered; returns the image ID (digest of the bytes).
   * Accepts exact bytes (load, pull: the ID must not change) or an object to serialise.
   */
  async putImageConfig(config: ImageConfig | Buffer): Promise<Digest> {
    const bytes = Buffer.isBuffer(config) ? config : Buffer.from(serializeConfig(config));
    let parsed: ImageConfig;
    try {
      parsed = parseConfig(bytes);
    } catch (err) {
      throw invalid(`invalid image config: ${(err as Error).message}`, err);
    }
    for (const chainId of chainIds(parsed.rootfs.diff_ids)) this.layers.require(chainId);
    const { digest } = await this.blobs.put(bytes);
    this.configs.set(digest, parsed);
    return digest;
  }

  /** The layer records of an image, base first. */
  async imageLayers(id: Digest): Promise<LayerRecord[]> {
    const config = await this.imageConfig(id);
    return chainIds(config.rootfs.diff_ids).map((c) => this.layers.require(c));
  }

  /** Chain ID of an image's top layer, or undefined for an image with no layers (FROM scratch). */
  async topLayer(id: Digest): Promise<Digest | undefined> {
    const ids = chainIds((await this.imageConfig(id)).rootfs.diff_ids);
    return ids[ids.length - 1];
  }

  /** Sum of the layer sizes of an image (Docker's image `Size`). */
  async imageSize(id: Digest): Promise<number> {
    return (await this.imageLayers(id)).reduce((sum, l) => sum + l.size, 0);
  }

  /**
   * Mark and sweep: every image held by some namespace or root provider keeps its config and layers (and
   * each layer's parents); everything else is deleted. Runs exclusively, so content an operation has
   * written but not yet named is never collected.
   */
  collectGarbage(): Promise<GcResult> {
    return this.gcLock.exclusive(async () => {
      const liveImages = new Set<Digest>();
      const liveLayers = new Set<Digest>();
      const liveBlobs = new Set<Digest>();
      for (const name of await this.namespaceNames()) {
        const ns = await this.namespace(name);
        for (const id of ns.imageIds()) {
          liveImages.add(id);
          for (const b of ns.image(id)?.blobs ?? []) liveBlobs.add(b);
        }
      }
      for (const provider of this.roots) {
        const r = provider();
        for (const id of r.images ?? []) liveImages.add(id);
        for (const id of r.layers ?? []) liveLayers.add(id);
        for (const b of r.blobs ?? []) liveBlobs.add(b);
      }
      for (const id of liveImages) {
        liveBlobs.add(id);
        const config = await this.imageConfig(id).catch(() => undefined);
        for (const c of chainIds(config?.rootfs.diff_ids ?? [])) liveLayers.add(c);
      }
      for (const id of [...liveLayers]) {
        for (let p = this.layers.get(id)?.parent; p; p = this.layers.get(p)?.parent) liveLayers.add(p);
      }
      for (const id of liveLayers) {
        const record = this.layers.get(id);
        if (record) liveBlobs.add(record.blob.digest);
      }
      const result: GcResult = { deletedImages: [], deletedLayers: [], reclaimedBytes: 0 };
      // Children before parents, so a crash mid-sweep never leaves a layer whose parent is gone.
      const deadLayers = this.layers.all().filter((l) => !liveLayers.has(l.chainId));
      deadLayers.sort((a, b) => depth(this.layers, b.chainId) - depth(this.layers, a.chainId));
      for (const layer of deadLayers) {
        await this.layers.delete(layer.chainId);
        result.deletedLayers.push(layer.chainId);
        result.reclaimedBytes += layer.size;
      }
      for (const blob of await this.blobs.list()) {
        if (liveBlobs.has(blob)) continue;
        if (this.configs.has(blob)) {
          result.deletedImages.push(blob);
          this.configs.delete(blob);
        }
        await this.blobs.delete(blob);
      }
      return result;
    });
  }

  private async namespaceNames(): Promise<string[]> {
    const names = new Set(this.namespaces.keys());
    for (const file of await fs.readdir(this.namespaceDir)) {
      if (file.endsWith('.json') && !file.startsWith('.')) names.add(file.slice(0, -5));
    }
    return [...names];
  }
}

function depth(layers: LayerStore, id: Digest): number {
  let d = 0;
  for (let p = layers.get(id)?.parent; p; p = layers.get(p)?.parent) d++;
  return d;
}

