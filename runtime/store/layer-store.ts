import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { applyLayer } from '../archive/apply-layer.ts';
import type { ArchiveLimits } from '../archive/limits.ts';
import { isErrno, notFound } from '../errors.ts';
import { hexOf, isDigest, type Digest } from '../util/digest.ts';
import { atomicWriteFile, pathExists, readJsonIfExists, removeStaleTemps, tempPathFor } from '../util/fsx.ts';
import { KeyedMutex } from '../util/locks.ts';
import type { BlobStore } from './blob-store.ts';

export { DOCKER_LAYER as LAYER_MEDIA_TYPE } from '../image/media-types.ts';

/** A layer as it sits on a particular parent chain: the unit that overlayfs stacks. */
export interface LayerRecord {
  chainId: Digest;
  diffId: Digest;
  parent: Digest | null;
  /**
   * The layer's tar in the blob store: plain for layers made here (its digest is the diffID), gzip for pulled
   * and catalog ones (what a registry serves); `mediaType` says which. Pushes compress plain ones.
   */
  blob: { digest: Digest; size: number; mediaType: string };
  /** Bytes of file content the layer adds (Docker's layer "size"). */
  size: number;
}

/**
 * Layers by chain ID: `<root>/<chain hex>/layer.json` plus, once a container or build needs it, the
 * extracted `diff/` directory, shared read-only by every container and sandbox as an overlay lowerdir.
 */
export class LayerStore {
  private readonly records = new Map<Digest, LayerRecord>();
  private readonly extracting = new KeyedMutex();

  constructor(
    private readonly root: string,
    private readonly blobs: BlobStore,
    private readonly limits: ArchiveLimits,
  ) {}

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    await removeStaleTemps(this.root);
    for (const name of await fs.readdir(this.root)) {
      const chainId = `sha256:${name}`;
      if (!isDigest(chainId)) continue;
      const dir = path.join(this.root, name);
      await removeStaleTemps(dir);
      const record = await readJsonIfExists<LayerRecord>(path.join(dir, 'layer.json'));
      // A directory without its record is the remains of an interrupted registration.
      if (record) this.records.set(chainId, record);
      else await fs.rm(dir, { recursive: true, force: true });
    }
  }

  get(chainId: Digest): LayerRecord | undefined {
    return this.records.get(chainId);
  }

  require(chainId: Digest): LayerRecord {
    const record = this.records.get(chainId);
    if (!record) throw notFound(`layer ${chainId} does not exist`);
    return record;
  }

  all(): LayerRecord[] {
    return [...this.records.values()];
  }

  /** Record a layer whose blob is already in the blob store. Idempotent. */
  async register(record: LayerRecord): Promise<LayerRecord> {
    const existing = this.records.get(record.chainId);
    if (existing) return existing;
    if (record.parent) this.require(record.parent);
    const dir = this.dirOf(record.chainId);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await atomicWriteFile(path.join(dir, 'layer.json'), JSON.stringify(record));
    this.records.set(record.chainId, record);
    return record;
  }

  /** The extracted directory of one layer, extracting it on first use (once, even under concurrency). */
  diffDir(chainId: Digest): Promise<string> {
    return this.extracting.run(chainId, async () => {
      const record = this.require(chainId);
      const diff = path.join(this.dirOf(chainId), 'diff');
      if (await pathExists(diff)) return diff;
      // Extract into a temp dir and rename, so a crash never leaves a half-extracted layer in place.
      const tmp = tempPathFor(diff);
      await fs.mkdir(tmp, { mode: 0o755 });
      try {
        await applyLayer(createReadStream(this.blobs.path(record.blob.digest)), tmp, { limits: this.limits, label: 'layer' });
        await fs.rename(tmp, diff);
      } catch (err) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      return diff;
    });
  }

  /**
   * Take `dir` (on the store's filesystem, exactly what extracting the layer's tar would give) as the layer's
   * extracted directory, so a layer just built is never extracted again. Returns false, leaving `dir` to the
   * caller, when the layer already has its directory or `dir` lies on another filesystem.
   */
  adoptDiff(chainId: Digest, dir: string): Promise<boolean> {
    return this.extracting.run(chainId, async () => {
      this.require(chainId);
      const diff = path.join(this.dirOf(chainId), 'diff');
      if (await pathExists(diff)) return false;
      // Extraction makes the root 0755 root:root; a scratch directory may have been made private.
      await fs.lchown(dir, 0, 0);
      await fs.chmod(dir, 0o755);
      try {
        await fs.rename(dir, diff);
      } catch (err) {
        if (isErrno(err, 'EXDEV')) return false;
        throw err;
      }
      return true;
    });
  }

  /** Overlay lowerdirs for an image whose top layer is `top`: topmost first, as overlayfs wants them. */
  async lowerDirs(top: Digest): Promise<string[]> {
    const chain: Digest[] = [];
    for (let id: Digest | null = top; id; id = this.require(id).parent) chain.push(id);
    const dirs: string[] = [];
    for (const id of chain) dirs.push(await this.diffDir(id));
    return dirs;
  }

  async delete(chainId: Digest): Promise<void> {
    this.records.delete(chainId);
    // Drop the record first: a crash mid-delete then leaves a directory init() cleans up.
    await fs.rm(path.join(this.dirOf(chainId), 'layer.json'), { force: true });
    await fs.rm(this.dirOf(chainId), { recursive: true, force: true });
  }

  private dirOf(chainId: Digest): string {
    return path.join(this.root, hexOf(chainId));
  }
}
