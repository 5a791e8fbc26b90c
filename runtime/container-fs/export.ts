import type { Readable } from 'node:stream';
import type { ContainerRuntime } from '../container/runtime.ts';
import { packTree } from './pack-tree.ts';
import { RootFs } from './root-fd.ts';

/**
 * `docker export`: a tar of the container's merged root filesystem (image + init layer + its changes; not
 * its volumes, as with Docker), entries named from the root without a leading `./`. The overlay stays
 * mounted, and the root held, until `send` has finished with the stream.
 */
export function exportContainer(runtime: ContainerRuntime, idOrName: string, send: (tar: Readable) => Promise<void>): Promise<void> {
  return runtime.withRootfs(idOrName, async (view) => {
    const rootfs = await RootFs.open(view.merged);
    try {
      await send(packTree(rootfs, rootfs.root, ''));
    } finally {
      await rootfs.close();
    }
  });
}
