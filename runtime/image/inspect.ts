import { EngineError } from '../errors.ts';
import type { ImageConfig } from './config.ts';
import type { ImageContext } from './context.ts';
import { getImage } from './get-image.ts';
import { goContainerConfig } from './go-shapes.ts';
import { goTimeString } from './go-time.ts';
import { refsOf } from './refs.ts';

/** Fields of a Docker image config that the engine's ImageConfig type does not name. */
type RawConfig = ImageConfig & { comment?: string; 'os.version'?: string };

/**
 * `docker image inspect`: dockerd's LookupImage, keys in types.ImageInspect order. A missing image is the
 * daemon's `no such image: <input>: <GetImage error>`.
 */
export async function inspectImage(ctx: ImageContext, input: string): Promise<Record<string, unknown>> {
  let id;
  try {
    ({ id } = getImage(ctx.ns, input));
  } catch (err) {
    if (err instanceof EngineError) throw new EngineError(err.code, `no such image: ${input}: ${err.message}`, { cause: err });
    throw err;
  }
  const state = ctx.ns.snapshot();
  const config = (await ctx.store.imageConfig(id)) as RawConfig;
  const refs = refsOf(state, id);
  const size = await ctx.store.imageSize(id);
  const history = config.history ?? [];
  const out: Record<string, unknown> = {
    Id: id,
    RepoTags: refs.filter((r) => !r.digested).map((r) => r.familiar),
    RepoDigests: refs.filter((r) => r.digested).map((r) => r.familiar),
    Parent: state.images[id]?.parent ?? '',
    Comment: config.comment || history[history.length - 1]?.comment || '',
    Created: goTimeString(config.created),
    Container: config.container ?? '',
    ContainerConfig: goContainerConfig(config.container_config ?? {}),
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: goContainerConfig(config.config),
    Architecture: config.architecture,
  };
  if (config.variant) out.Variant = config.variant;
  out.Os = config.os;
  if (config['os.version']) out.OsVersion = config['os.version'];
  Object.assign(out, {
    Size: size,
    VirtualSize: size,
    // Layers live in the engine's own store, not in overlay2 directories a learner could look up.
    GraphDriver: { Data: null, Name: 'overlay2' },
    RootFS: rootFs(config),
    Metadata: { LastTagTime: goTimeString(state.images[id]?.lastTagTime) },
  });
  return out;
}

function rootFs(config: ImageConfig): Record<string, unknown> {
  const layers = config.rootfs.diff_ids;
  return layers.length > 0 ? { Type: config.rootfs.type, Layers: layers } : { Type: config.rootfs.type };
}
