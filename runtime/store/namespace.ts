import path from 'node:path';
import { invalid } from '../errors.ts';
import type { Digest } from '../util/digest.ts';
import { atomicWriteFile, readJsonIfExists } from '../util/fsx.ts';
import { KeyedMutex } from '../util/locks.ts';

/** What a namespace knows about one image it holds. The config itself lives in the shared blob store. */
export interface ImageEntry {
  /** Image this one was built on (classic-builder parent link), if any. */
  parent?: Digest;
  /** When the image arrived in this namespace. */
  added: string;
  lastTagTime?: string;
  /** Other blobs this image keeps alive, e.g. registry manifests. */
  blobs?: Digest[];
}

interface NamespaceState {
  images: Record<string, ImageEntry>;
  /** Canonical tagged reference (`docker.io/library/busybox:latest`) → image ID. */
  tags: Record<string, Digest>;
  /** Canonical digested reference (`docker.io/library/busybox@sha256:…`) → image ID. */
  digests: Record<string, Digest>;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A namespace name as a file name: lower-case letters, digits, `_` and `-`. */
export function checkNamespaceName(name: string): string {
  if (!NAME_RE.test(name)) throw invalid(`invalid namespace name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * One namespace of names over the shared store: which images it holds and what its tags point to. Each
 * sandbox gets its own; the standalone engine uses `default`. State is one JSON file rewritten atomically,
 * so a crash leaves either the old or the new state.
 */
export class Namespace {
  private state: NamespaceState = { images: {}, tags: {}, digests: {} };
  private readonly mutex = new KeyedMutex();

  private constructor(
    readonly name: string,
    private readonly file: string,
  ) {}

  /** True when the namespace had no state on disk when opened (a fresh sandbox or engine). */
  fresh = false;

  static async open(dir: string, name: string): Promise<Namespace> {
    const ns = new Namespace(name, path.join(dir, `${checkNamespaceName(name)}.json`));
    const saved = await readJsonIfExists<NamespaceState>(ns.file);
    if (saved) ns.state = { images: saved.images ?? {}, tags: saved.tags ?? {}, digests: saved.digests ?? {} };
    else ns.fresh = true;
    return ns;
  }

  /** A consistent snapshot for readers. */
  snapshot(): Readonly<NamespaceState> {
    return this.state;
  }

  hasImage(id: Digest): boolean {
    return id in this.state.images;
  }

  image(id: Digest): ImageEntry | undefined {
    return this.state.images[id];
  }

  imageIds(): Digest[] {
    return Object.keys(this.state.images) as Digest[];
  }

  /** Tags (canonical) pointing at an image. */
  tagsOf(id: Digest): string[] {
    return Object.entries(this.state.tags).filter(([, v]) => v === id).map(([k]) => k);
  }

  digestsOf(id: Digest): string[] {
    return Object.entries(this.state.digests).filter(([, v]) => v === id).map(([k]) => k);
  }

  lookupTag(canonical: string): Digest | undefined {
    return this.state.tags[canonical];
  }

  lookupDigest(canonical: string): Digest | undefined {
    return this.state.digests[canonical];
  }

  childrenOf(id: Digest): Digest[] {
    return (Object.entries(this.state.images) as Array<[Digest, ImageEntry]>).filter(([, e]) => e.parent === id).map(([k]) => k);
  }

  /**
   * Apply a change to a private copy of the state and persist it; readers keep seeing the old state until
   * the new one is safely on disk. Changes to one namespace are serialised.
   */
  update<T>(change: (draft: NamespaceState) => T): Promise<T> {
    return this.mutex.run('state', async () => {
      const draft = structuredClone(this.state);
      const result = change(draft);
      await atomicWriteFile(this.file, JSON.stringify(draft));
      this.state = draft;
      return result;
    });
  }
}

export type { NamespaceState };
