import type { ArchiveLimits } from './archive/limits.ts';
import { Catalog } from './catalog/catalog.ts';
import type { Namespace } from './store/namespace.ts';
import type { Store } from './store/store.ts';

export interface EngineOptions {
  /** The engine's namespace of names over the shared store (`default` for the standalone engine). */
  namespace: string;
  /** Where the offline base-image catalog lives (an OCI image layout built at setup). */
  catalogDir: string;
  /** Version string shown by `docker version` and in the Server header. */
  version: string;
  /** Engine root shown as DockerRootDir. */
  stateDir: string;
}

/**
 * One engine: a namespace over the shared store plus the services the Engine API calls. The standalone
 * engine has one; every sandbox will have its own over the same Store.
 */
export class Engine {
  private constructor(
    readonly store: Store,
    readonly ns: Namespace,
    readonly catalog: Catalog,
    readonly options: EngineOptions,
  ) {}

  static async open(store: Store, options: EngineOptions): Promise<Engine> {
    const ns = await store.namespace(options.namespace);
    const catalog = await Catalog.open(options.catalogDir);
    const engine = new Engine(store, ns, catalog, options);
    // A new namespace starts with the whole catalog, as a fresh Docker host would after pulling it.
    if (ns.fresh) await catalog.importAll(store, ns);
    return engine;
  }

  get limits(): ArchiveLimits {
    return this.store.limits;
  }
}
