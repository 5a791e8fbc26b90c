import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { packDirectory } from '../archive/pack-dir.ts';
import { BuildService, type BuildRequest } from '../builder/service.ts';
import type { BuildEvent } from '../builder/index.ts';
import { Engine } from '../engine.ts';
import { isGzipLayer } from '../image/media-types.ts';
import { Store } from '../store/store.ts';
import { chainIds, shortId, type Digest } from '../util/digest.ts';
import { pathExists } from '../util/fsx.ts';
import { aptEgress, type AptEgress } from './apt-egress.ts';
import { contextDir, dockerfileVersion, type DockerfileImage } from './dockerfile-images.ts';
import { installedPackages } from './dpkg-status.ts';
import { layerDescriptor, type LayoutWriter, type WrittenLayer } from './oci-writer.ts';
import { BUILT_FROM_LABEL, catalogError, PACKAGES_LABEL, RECIPE_LABEL, type CatalogLog } from './recipe.ts';

/** One image's build, RUN steps included, may take this long before it is cancelled. */
const BUILD_TIMEOUT_MS = 15 * 60_000;
/** Room for the RUN containers' writable layers: a sparse file, so only what apt writes takes disk. */
const BUILD_DISK_BYTES = 8 * 1024 * 1024 * 1024;
/** Lines of a failing step's output kept for the error. */
const TAIL_LINES = 12;

/**
 * Build `images` with layerlab's own builder and write them into the layout. A temporary store and engine
 * in `work` import the layout's images so far (debian:bookworm-slim among them); RUN steps get a bridge
 * network whose only egress is the host's apt mirrors, named in /etc/hosts so no DNS server is needed. The
 * engine is destroyed afterwards (containers, mounts, network devices and rules); `work` is the caller's.
 */
export async function buildDockerfileImages(writer: LayoutWriter, images: readonly DockerfileImage[], work: string, log: CatalogLog): Promise<void> {
  const egress = await aptEgress();
  log(`building ${images.map((i) => i.name).join(', ')} from Dockerfiles; RUN steps may reach only ${egress.extraHosts.join(', ')}`);
  await writer.finish(); // an index of the images so far, for the engine's catalog import
  const engine = await openBuilderEngine(work, writer.dir, egress.egressAllow);
  const { store } = engine;
  try {
    const service = new BuildService({
      store,
      ns: engine.ns,
      catalog: engine.catalog,
      containers: engine.containers,
      version: engine.options.version,
      viewDir: path.join(work, 'engine', 'builder-views'),
    });
    for (const image of images) {
      const started = Date.now();
      const id = await buildOne(service, image, egress, (line) => log(`${image.name}: ${line}`));
      const summary = await exportImage(engine, writer, image, id, egress);
      log(`${image.name}: ${summary} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await engine.destroy();
  }
}

/**
 * What a killed catalog build left in `work` (running build containers, their mounts and cgroups, the
 * bridge and its firewall rules): reopening the engine on its state reaps them, destroying it removes the rest.
 */
export async function reapBuilderEngine(work: string, log: CatalogLog): Promise<void> {
  if (!(await pathExists(path.join(work, 'engine')))) return;
  log(`cleaning up the engine of an abandoned catalog build in ${work}`);
  const engine = await openBuilderEngine(work, path.join(work, 'no-catalog'), []);
  await engine.destroy();
}

async function openBuilderEngine(work: string, catalogDir: string, egressAllow: string[]): Promise<Engine> {
  const store = await Store.open(path.join(work, 'store'));
  return Engine.open(store, {
    namespace: 'catalog-build',
    catalogDir,
    version: 'layerlab-catalog',
    stateDir: path.join(work, 'engine'),
    egressAllow,
    limits: { diskPreallocate: false, diskQuotaBytes: BUILD_DISK_BYTES },
  });
}

async function buildOne(service: BuildService, image: DockerfileImage, egress: AptEgress, log: CatalogLog): Promise<Digest> {
  const request: BuildRequest = {
    tags: [image.refs[0]!],
    buildArgs: {},
    labels: {},
    noCache: false,
    target: '',
    rm: true,
    forceRm: true,
    pull: false,
    hostConfig: { NetworkMode: 'bridge', ExtraHosts: egress.extraHosts },
  };
  const tail: string[] = [];
  const onEvent = (e: BuildEvent): void => {
    if (e.type === 'step-start') log(`step ${e.step}/${e.total} ${e.text.length > 100 ? `${e.text.slice(0, 99)}…` : e.text}`);
    if (e.type === 'output') tail.push(...e.text.split('\n').filter((l) => l.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - TAIL_LINES));
  };
  try {
    const result = await service.build(request, packDirectory(contextDir(image)), { onEvent, onPull: () => undefined, signal: AbortSignal.timeout(BUILD_TIMEOUT_MS) });
    return result.image;
  } catch (err) {
    const output = tail.length > 0 ? `; last output: ${tail.join(' | ')}` : '';
    throw catalogError(`building ${image.name} from ${contextDir(image)} failed: ${err instanceof Error ? err.message : String(err)}${output}`, err);
  }
}

/**
 * Write a built image into the layout under its catalog names, with the catalog's labels; returns a summary.
 * Layers the store got from the layout (the debian base) are named as they are; built ones are gzipped into it.
 */
async function exportImage(engine: Engine, writer: LayoutWriter, image: DockerfileImage, id: Digest, egress: AptEgress): Promise<string> {
  const { store } = engine;
  const config = structuredClone(await store.imageConfig(id));
  const chains = chainIds(config.rootfs.diff_ids);
  const layers: WrittenLayer[] = [];
  for (const chainId of chains) {
    const record = store.layers.require(chainId);
    if (isGzipLayer(record.blob.mediaType)) {
      await fs.access(path.join(writer.blobsDir, record.blob.digest.slice(7))); // imported from this layout
      layers.push({ descriptor: layerDescriptor(record.blob.digest, record.blob.size, record.size), diffId: record.diffId, contentSize: record.size });
    } else {
      layers.push(await writer.writeLayerTar(createReadStream(store.blobs.path(record.blob.digest)), record.size));
    }
  }
  const packages = installedPackages(await topmostFile(store, chains, 'var/lib/dpkg/status'));
  checkTaggedVersion(image, packages);
  const debian = (await topmostFile(store, chains, 'etc/debian_version')).trim();
  config.config = {
    ...config.config,
    Labels: {
      ...config.config?.Labels,
      [BUILT_FROM_LABEL]: `runtime/catalog/dockerfiles/${image.name}/Dockerfile built by layerlab's builder on debian:bookworm-slim (Debian ${debian}), Debian packages from ${egress.uris.join(' ')}`,
      [PACKAGES_LABEL]: packages.join(' '),
      [RECIPE_LABEL]: dockerfileVersion(image),
    },
  };
  const written = await writer.writeImage(config, layers, image.refs, image.description, image.system === true);
  const added = layers.slice(1);
  return `image ${shortId(written.id)}, ${megabytes(added.reduce((n, l) => n + l.contentSize, 0))} of files on the base, ${megabytes(added.reduce((n, l) => n + l.descriptor.size, 0))} compressed`;
}

/** Fail when the image's tags name another version than Debian installed (say, after a point release moved nodejs). */
function checkTaggedVersion(image: DockerfileImage, packages: readonly string[]): void {
  if (!image.tagged) return;
  const { pkg, versionPrefix } = image.tagged;
  const version = packages.find((p) => p.startsWith(`${pkg}=`))?.slice(pkg.length + 1);
  const bare = version?.replace(/^\d+:/, '');
  if (!bare?.startsWith(versionPrefix)) {
    throw catalogError(`${image.name} is tagged ${image.refs.join(', ')} for ${pkg} ${versionPrefix}x, but Debian installed ${pkg} ${version ?? '(none)'}: update runtime/catalog/dockerfile-images.ts`);
  }
}

/** A file of the image, from the topmost layer that has it (the builder's layers are already extracted). */
async function topmostFile(store: Store, chains: readonly Digest[], rel: string): Promise<string> {
  for (const chainId of [...chains].reverse()) {
    const text = await fs.readFile(path.join(await store.layers.diffDir(chainId), rel), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  throw catalogError(`the built image has no /${rel}`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
