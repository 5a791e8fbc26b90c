import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { packDirectory } from '../../runtime/archive/pack-dir.ts';

/** Files to put in a test layer: path → content (string), or `{ symlink }` / `{ dir: true }`. */
export type TreeSpec = Record<string, string | { symlink: string } | { dir: true; mode?: number }>;

/** Create a directory tree from a spec, for building test layers and contexts. */
export async function makeTree(spec: TreeSpec, root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-tree-'))): Promise<string> {
  for (const [rel, value] of Object.entries(spec)) {
    const full = path.join(root, rel);
    await fs.mkdir(path.dirname(full), { recursive: true });
    if (typeof value === 'string') await fs.writeFile(full, value);
    else if ('symlink' in value) await fs.symlink(value.symlink, full);
    else await fs.mkdir(full, { recursive: true, mode: value.mode ?? 0o755 });
  }
  return root;
}

/** Tar a directory as a layer (the same code path the engine uses) into a file. */
export async function tarTree(root: string, file: string): Promise<string> {
  await pipeline(packDirectory(root), createWriteStream(file));
  return file;
}
