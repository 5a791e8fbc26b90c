import { promises as fs } from 'node:fs';
import path from 'node:path';
import { bootstrapDebian, SUITE } from './debian.ts';
import { BUILT_FROM_LABEL, catalogError, PACKAGES_LABEL, writeFileMode, type BaseImage, type CatalogLog, type ImageSpec } from './recipe.ts';
import { writeRootfsDiff } from './rootfs-diff.ts';

/** What a layered Debian image adds to debian:bookworm-slim. */
export interface DebianLayerPlan {
  /** Debian packages to install (with their dependencies). */
  packages: readonly string[];
  /** Change the installed root filesystem (write configs, pages, links); returns a phrase for the history. */
  customize(rootfs: string): Promise<string>;
}

/** The layer and labels of an image made of debian:bookworm-slim plus packages; the caller adds the config. */
export type DebianLayered = Pick<ImageSpec, 'layers' | 'labels'>;

/**
 * Bootstrap the slim variant again with the plan's packages (mmdebstrap with the base's settings plus
 * `--include`), customize it, and store only what differs from the base's rootfs as a second layer. The
 * base's own layer stays first, so the image shares it with debian:bookworm-slim byte for byte.
 */
export async function buildDebianLayer(work: string, log: CatalogLog, base: BaseImage | undefined, plan: DebianLayerPlan): Promise<DebianLayered> {
  if (!base || base.spec.layers.length !== 1) throw catalogError('a layered Debian image needs the built debian:bookworm-slim as its base');
  const made = await bootstrapDebian(work, log, true, plan.packages);
  const customized = await plan.customize(made.rootfs);
  log('computing the layer as the difference to the base');
  const layer = path.join(work, 'layer');
  const diff = await writeRootfsDiff(base.rootfs, made.rootfs, layer);
  log(`layer: ${diff.added} entries added, ${diff.changed} changed, ${diff.deleted} deleted`);
  return {
    layers: [
      base.spec.layers[0]!,
      {
        dir: layer,
        createdBy: `mmdebstrap as for debian:${SUITE}-slim with --include=${plan.packages.join(',')} (${made.tool}); ${customized}; stored as the difference to debian:${SUITE}-slim`,
      },
    ],
    labels: {
      [BUILT_FROM_LABEL]: `debian:${SUITE}-slim (Debian ${made.debianVersion}) plus Debian packages ${plan.packages.join(', ')}, installed by ${made.tool} from ${made.uris.join(' ')}`,
      [PACKAGES_LABEL]: made.packages.join(' '),
    },
  };
}

/** Replace a file of the rootfs (removed first: a package's symlink there must not be written through). */
export async function replaceFile(rootfs: string, rel: string, data: string, mode = 0o644): Promise<void> {
  const file = path.join(rootfs, rel);
  await fs.rm(file, { force: true });
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileMode(file, data, mode);
}

/** Replace an entry of the rootfs with a symlink. */
export async function replaceWithSymlink(rootfs: string, rel: string, target: string): Promise<void> {
  const link = path.join(rootfs, rel);
  await fs.rm(link, { force: true });
  await fs.symlink(target, link);
}
