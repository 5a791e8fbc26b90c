import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Digest } from '../../util/digest.ts';
import { atomicWriteFile, readJsonIfExists } from '../../util/fsx.ts';
import { KeyedMutex } from '../../util/locks.ts';

/**
 * The classic builder's cache for one namespace: (parent image ID, probe key) → the image a previous build
 * committed for that step. Like Docker, the newest result wins; callers check that the image still exists
 * (a removed image is a miss).
 */
export class CacheIndex {
  private entries: Record<string, Digest> = {};
  private readonly mutex = new KeyedMutex();

  private constructor(private readonly file: string) {}

  static async open(dir: string): Promise<CacheIndex> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const index = new CacheIndex(path.join(dir, 'cache.json'));
    index.entries = (await readJsonIfExists<Record<string, Digest>>(index.file)) ?? {};
    return index;
  }

  lookup(parent: Digest | null, key: string): Digest | undefined {
    return this.entries[slot(parent, key)];
  }

  record(parent: Digest | null, key: string, image: Digest): Promise<void> {
    return this.mutex.run('index', async () => {
      const next = { ...this.entries, [slot(parent, key)]: image };
      await atomicWriteFile(this.file, JSON.stringify(next));
      this.entries = next;
    });
  }
}

function slot(parent: Digest | null, key: string): string {
  return `${parent ?? 'scratch'} ${key}`;
}
