import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Catalog } from '../catalog/catalog.ts';
import type { ContainerRuntime } from '../container/runtime.ts';
import type { HostConfig } from '../container/types.ts';
import { tryResolveImage } from '../image/lookup.ts';
import { pullFromCatalog, type PullEvent } from '../image/pull-catalog.ts';
import { familiarName, parseReference } from '../image/reference.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import type { Digest } from '../util/digest.ts';
import type { CacheIndex } from './cache/cache-index.ts';
import { BuildContext } from './context/build-context.ts';
import { completeTarEnd } from './context/complete-tar.ts';
import type { BuildLog, BuildRecord } from './events/build-log.ts';
import type { BuildEvent } from './events/types.ts';
import { clearViews, runcExecutor } from './exec/runc-executor.ts';
import { openBuilderState } from './index.ts';
import { runBuild } from './plan/build.ts';
import type { BuildOptions, BuildResult } from './plan/options.ts';

/** What a build service runs against: one engine's store view, catalog and container runtime. */
export interface BuildServiceDeps {
  store: Store;
  ns: Namespace;
  catalog: Catalog;
  containers: ContainerRuntime;
  /** The engine version, shown as `docker_version` in built image configs. */
  version: string;
  /** The engine's own directory for the builder's read-only image views (cleared when the service opens). */
  viewDir: string;
}

/** One `docker build` request, parsed from the API query. */
export interface BuildRequest extends Omit<BuildOptions, 'onEvent' | 'signal' | 'dockerVersion'> {
  /** The `dockerfile` parameter: a path inside the context (`.dockerfile.<hex>` when `-f` was outside it). */
  dockerfile?: string;
  /** `--pull`: take FROM images from the catalog again even when they are present. */
  pull: boolean;
  /** Limits and network of RUN containers. */
  hostConfig: HostConfig;
}

export interface BuildCallbacks {
  onEvent(event: BuildEvent): void;
  /** A FROM image fetched on demand: the messages `docker pull` would print. */
  onPull(event: PullEvent): void;
  signal: AbortSignal;
}

/**
 * Builds for one engine: extracts the (untrusted) context into private scratch space, runs the classic
 * builder with RUN steps in the engine's containers, pulls missing FROM images from the offline catalog,
 * and keeps the builds' records for the learner-facing API.
 */
export class BuildService {
  private state: Promise<{ cache: CacheIndex; log: BuildLog }> | undefined;

  constructor(private readonly deps: BuildServiceDeps) {}

  private builderState(): Promise<{ cache: CacheIndex; log: BuildLog }> {
    this.state ??= clearViews(this.deps.viewDir).then(() => openBuilderState(this.deps.store, this.deps.ns.name));
    return this.state;
  }

  /** Run one build from a context tar; throws the build's error (a BuildError for Dockerfile and RUN failures). */
  async build(request: BuildRequest, contextTar: Readable, cb: BuildCallbacks): Promise<BuildResult> {
    const { store, ns } = this.deps;
    const { cache, log } = await this.builderState();
    const scratchDir = await fs.mkdtemp(path.join(store.tmpDir, 'build-'));
    try {
      const context = await BuildContext.fromTar(completeTarEnd(contextTar), { dir: path.join(scratchDir, 'ctx'), limits: store.limits, ...(request.dockerfile ? { dockerfile: request.dockerfile } : {}) });
      try {
        const executor = runcExecutor({ store, containers: this.deps.containers, viewDir: this.deps.viewDir, hostConfig: request.hostConfig, forceRm: request.forceRm });
        const options: BuildOptions = {
          tags: request.tags,
          buildArgs: request.buildArgs,
          labels: request.labels,
          noCache: request.noCache,
          target: request.target,
          rm: request.rm,
          forceRm: request.forceRm,
          dockerVersion: this.deps.version,
          signal: cb.signal,
          onEvent: cb.onEvent,
        };
        const resolveImage = (name: string) => this.resolveFrom(name, request.pull, cb.onPull);
        return await runBuild({ store, ns, executor, cache, log, context, scratchDir, resolveImage }, options);
      } finally {
        await context.cleanup();
      }
    } finally {
      await fs.rm(scratchDir, { recursive: true, force: true });
    }
  }

  /**
   * FROM and COPY --from images: the namespace's, else (or always, with --pull) the catalog's, imported with
   * the messages of a pull. A name the catalog lacks fails with its "pull access denied" text when it must be
   * pulled, as dockerd fails when the registry lacks it.
   */
  private async resolveFrom(name: string, pull: boolean, onPull: (e: PullEvent) => void): Promise<Digest> {
    const { store, ns, catalog } = this.deps;
    const local = tryResolveImage(ns, name);
    if (local && !(pull && local.ref)) return local.id;
    const ref = parseReference(name);
    await pullFromCatalog(store, ns, catalog, familiarName(ref), ref.digest ?? ref.tag ?? 'latest', onPull);
    const found = tryResolveImage(ns, name);
    if (!found) throw new Error(`pull of ${name} did not produce an image`);
    return found.id;
  }

  /** Stored builds, newest first (events and cache explanations included). */
  async builds(): Promise<BuildRecord[]> {
    return (await this.builderState()).log.list();
  }

  async buildRecord(id: string): Promise<BuildRecord | undefined> {
    return (await this.builderState()).log.get(id);
  }
}
