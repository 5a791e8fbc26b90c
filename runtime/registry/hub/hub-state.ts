import path from 'node:path';
import type { Digest } from '../../util/digest.ts';
import { atomicWriteFile, readJsonIfExists } from '../../util/fsx.ts';
import { KeyedMutex } from '../../util/locks.ts';

/** One repository of the hub: its tags, the manifests it holds, and the blobs linked into it. */
export interface HubRepo {
  tags: Record<string, Digest>;
  /** Manifest digest → media type (the exact bytes are in the store's blob store). */
  manifests: Record<string, string>;
  /** Blobs this repository may serve (distribution's per-repository links). */
  blobs: Digest[];
  description?: string;
}

export interface HubUser {
  salt: string;
  /** scrypt(password, salt), hex. */
  hash: string;
  created: string;
}

export interface HubData {
  repos: Record<string, HubRepo>;
  users: Record<string, HubUser>;
}

/**
 * The hub's metadata, one JSON file rewritten atomically: a crash leaves the old or the new state, never a
 * half-written one. Content lives in the shared blob store; this file only names it.
 */
export class HubState {
  private data: HubData = { repos: {}, users: {} };
  private readonly mutex = new KeyedMutex();

  private constructor(private readonly file: string) {}

  static async open(dir: string): Promise<HubState> {
    const state = new HubState(path.join(dir, 'hub.json'));
    const saved = await readJsonIfExists<HubData>(state.file);
    if (saved) state.data = { repos: saved.repos ?? {}, users: saved.users ?? {} };
    return state;
  }

  get snapshot(): Readonly<HubData> {
    return this.data;
  }

  repo(name: string): HubRepo | undefined {
    return Object.hasOwn(this.data.repos, name) ? this.data.repos[name] : undefined;
  }

  /** Every blob some repository links or some manifest is: what garbage collection must keep. */
  liveBlobs(): Digest[] {
    const live: Digest[] = [];
    for (const repo of Object.values(this.data.repos)) live.push(...repo.blobs, ...(Object.keys(repo.manifests) as Digest[]));
    return live;
  }

  /** Change a private copy, persist it, then publish it: readers never see an unsaved state. */
  update<T>(change: (draft: HubData) => T): Promise<T> {
    return this.mutex.run('state', async () => {
      const draft = structuredClone(this.data);
      const result = change(draft);
      await atomicWriteFile(this.file, JSON.stringify(draft), 0o600);
      this.data = draft;
      return result;
    });
  }
}

/** The repository entry in a draft, created empty when missing. */
export function draftRepo(draft: HubData, name: string): HubRepo {
  if (!Object.hasOwn(draft.repos, name)) draft.repos[name] = { tags: {}, manifests: {}, blobs: [] };
  return draft.repos[name]!;
}

/** Link a blob into a repository (idempotent). */
export function linkBlob(repo: HubRepo, digest: Digest): void {
  if (!repo.blobs.includes(digest)) repo.blobs.push(digest);
}
