import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { DOCKER_LAYER, isGzipLayer } from '../../image/media-types.ts';
import type { LayerRecord } from '../../store/layer-store.ts';
import type { Store } from '../../store/store.ts';
import { Hasher } from '../../util/digest.ts';
import { tempPathFor } from '../../util/fsx.ts';
import type { BlobSource } from './blob-upload.ts';

/** A layer in the form a registry receives it, and what to do once it has been sent. */
export interface PushableLayer extends BlobSource {
  mediaType: string;
  release(): Promise<void>;
}

/**
 * A stored layer as it is pushed: gzip. Compressed blobs (pulled, catalog) go as they are, under Docker's
 * media type; plain tars (built, committed, loaded here) are compressed into a temp file first, as Docker
 * compresses on push. Node's gzip writes no timestamp, so the same layer always gives the same digest and a
 * second push finds it there ("Layer already exists").
 */
export async function pushableLayer(store: Store, layer: LayerRecord): Promise<PushableLayer> {
  const file = store.blobs.path(layer.blob.digest);
  if (isGzipLayer(layer.blob.mediaType)) {
    return { digest: layer.blob.digest, size: layer.blob.size, file, mediaType: DOCKER_LAYER, release: async () => undefined };
  }
  const tmp = tempPathFor(path.join(store.tmpDir, 'push-layer.gz'));
  const hasher = new Hasher();
  const release = () => fs.rm(tmp, { force: true });
  try {
    await pipeline(createReadStream(file), createGzip(), hasher.tap(), createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await release();
    throw err;
  }
  return { digest: hasher.digest(), size: hasher.size, file: tmp, mediaType: DOCKER_LAYER, release };
}
