import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packDirectory } from '../../archive/pack-dir.ts';
import { registerLayerFile } from '../../image/layer-import.ts';
import type { Store } from '../../store/store.ts';
import type { Digest } from '../../util/digest.ts';
import { tempPathFor } from '../../util/fsx.ts';
import type { CommittedLayer } from './executor.ts';

/**
 * The standard Executor.commit: pack the directory with pack-dir (lexical order, whiteouts converted for
 * overlay upper dirs) into a temp tar on the store's filesystem and register it as a layer. An empty
 * directory is an empty layer (null), as Docker's empty-tar diff ID is. Call it under store.gcLock.shared,
 * held until the image that uses the layer is named, so garbage collection cannot take the layer first.
 */
export async function commitDirectory(store: Store, dir: string, parent: Digest | null, opts: { overlayUpper: boolean }): Promise<CommittedLayer> {
  if ((await fs.readdir(dir)).length === 0) return null;
  const tar = tempPathFor(path.join(store.tmpDir, 'layer.tar'));
  try {
    await pipeline(packDirectory(dir, { overlayUpper: opts.overlayUpper }), createWriteStream(tar, { mode: 0o600 }));
    return await registerLayerFile(store, parent, tar, { label: 'build layer' });
  } finally {
    await fs.rm(tar, { force: true });
  }
}
