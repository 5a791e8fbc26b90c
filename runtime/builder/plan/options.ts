import type { Namespace } from '../../store/namespace.ts';
import type { Store } from '../../store/store.ts';
import type { Digest } from '../../util/digest.ts';
import type { CacheIndex } from '../cache/cache-index.ts';
import type { BuildContext } from '../context/build-context.ts';
import type { BuildEvent } from '../events/types.ts';
import type { BuildLog } from '../events/build-log.ts';
import type { Executor } from '../exec/executor.ts';
import type { BuildArgValues } from '../expand/build-args.ts';

/** A build request, as the /build route will parse it from its query. */
export interface BuildOptions {
  /** `-t` values, as given (validated and normalised by the builder). */
  tags: string[];
  buildArgs: BuildArgValues;
  labels: Record<string, string>;
  noCache: boolean;
  target: string;
  /** `--rm` (default true) and `--force-rm`. */
  rm: boolean;
  forceRm: boolean;
  /** Shown as `docker_version` in image configs. */
  dockerVersion: string;
  signal?: AbortSignal;
  /** Live events (also kept in the BuildLog). */
  onEvent?: (event: BuildEvent) => void;
}

/** What a build runs against. */
export interface BuildDeps {
  store: Store;
  ns: Namespace;
  executor: Executor;
  cache: CacheIndex;
  log: BuildLog;
  context: BuildContext;
  /** Scratch space for upper dirs (on the store's filesystem, so layers can be renamed in). */
  scratchDir: string;
  /**
   * Find (or pull) an image by name for FROM and COPY --from; throws the daemon's error text when it
   * cannot. The default looks in the namespace only.
   */
  resolveImage?: (name: string) => Promise<Digest>;
}

export interface BuildResult {
  buildId: string;
  image: Digest;
  tags: string[];
}
