import { promises as fs } from 'node:fs';
import { EngineError } from '../errors.ts';
import { run } from '../util/exec.ts';
import { DEFAULT_PATH_ENV, type HistoryEntry, type ImageConfig } from '../image/config.ts';
import type { WrittenLayer } from './oci-writer.ts';

/** Progress output: one human-readable line at a time. */
export type CatalogLog = (line: string) => void;

/** Label keys every catalog image carries, so `docker inspect` says where an image came from. */
export const BUILT_FROM_LABEL = 'io.layerlab.catalog.built-from';
export const PACKAGES_LABEL = 'io.layerlab.catalog.packages';
export const RECIPE_LABEL = 'io.layerlab.catalog.recipe';

/** One layer of a recipe's image: a directory holding the layer's files, and how they were made. */
export interface LayerSpec {
  dir: string;
  /** The history entry's `created_by`: what `docker history` shows for this layer. */
  createdBy: string;
}

/** What a recipe produces: layers bottom first, plus the parts of the config that differ between images. */
export interface ImageSpec {
  layers: LayerSpec[];
  cmd: string[];
  labels: Record<string, string>;
  /** Variables beyond PATH, as `NAME=value`. */
  env?: string[];
  workingDir?: string;
  /** Ports as Docker writes them, e.g. `80/tcp`. */
  exposedPorts?: string[];
  stopSignal?: string;
}

/** How to make one catalog image on this machine, offline or from the host's apt sources. */
export interface ImageRecipe {
  /** Catalog names, main name first; aliases share the image (`debian:12` is `debian:bookworm`). */
  refs: string[];
  description: string;
  /** Changes whenever the recipe would produce different content, which makes setup rebuild the catalog. */
  version: string;
  /** An image for layerlab's own use (the sandbox terminal): never imported into namespaces, pulled or published. */
  system?: boolean;
  /** Build the layers in `work` (an empty scratch directory the caller removes). */
  build(work: string, log: CatalogLog): Promise<ImageSpec>;
}

/** Docker's platform name for the machine's CPU (catalog images are built for the host). */
export function hostArchitecture(): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return names[process.arch] ?? process.arch;
}

/**
 * The image config for a built recipe: PATH and the spec's settings, labels, one history entry per layer, then
 * one empty entry per setting as a Dockerfile would record it (ENV, WORKDIR, EXPOSE, STOPSIGNAL, CMD).
 */
export function imageConfig(recipe: ImageRecipe, spec: ImageSpec, layers: readonly WrittenLayer[], created: string): ImageConfig {
  const history: HistoryEntry[] = spec.layers.map((l) => ({ created, created_by: l.createdBy, comment: 'layerlab catalog' }));
  const settings = [
    ...(spec.env ?? []).map((e) => `ENV ${e}`),
    ...(spec.workingDir ? [`WORKDIR ${spec.workingDir}`] : []),
    ...(spec.exposedPorts?.length ? [`EXPOSE map[${spec.exposedPorts.map((p) => `${p}:{}`).join(' ')}]`] : []),
    ...(spec.stopSignal ? [`STOPSIGNAL ${spec.stopSignal}`] : []),
    `CMD ${JSON.stringify(spec.cmd)}`,
  ];
  for (const createdBy of settings) history.push({ created, created_by: createdBy, comment: 'layerlab catalog', empty_layer: true });
  return {
    architecture: hostArchitecture(),
    config: {
      ...(spec.exposedPorts?.length ? { ExposedPorts: Object.fromEntries(spec.exposedPorts.map((p) => [p, {}])) } : {}),
      Env: [DEFAULT_PATH_ENV, ...(spec.env ?? [])],
      Cmd: spec.cmd,
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Labels: { ...spec.labels, [RECIPE_LABEL]: recipe.version },
      ...(spec.stopSignal ? { StopSignal: spec.stopSignal } : {}),
    },
    created,
    history,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
}

/** The installed version of a host Debian package, e.g. `1:1.35.0-4+deb12u1+b1`. */
export async function hostPackageVersion(pkg: string): Promise<string> {
  const out = await run('dpkg-query', ['-W', '-f=${Version}', pkg]);
  if (!out) throw catalogError(`Debian package ${pkg} is not installed (run \`npm run setup\`)`);
  return out;
}

/** A catalog build failure: a fault of this machine or of a recipe, never of a learner's request. */
export function catalogError(message: string, cause?: unknown): EngineError {
  return new EngineError('INTERNAL', message, { cause });
}

/** Write a file with exactly `mode`, whatever the process umask is (an image's files must not depend on it). */
export async function writeFileMode(file: string, data: string | Buffer, mode: number): Promise<void> {
  await fs.writeFile(file, data);
  await fs.chmod(file, mode);
}
