import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchiveLimits } from './archive/limits.ts';
import { Catalog } from './catalog/catalog.ts';
import { deferredNetworkHooks } from './container-network.ts';
import { ContainerRuntime } from './container/runtime.ts';
import type { RuntimeLimits } from './container/types.ts';
import { publishedPorts, startShell, type EnginePublishedPort, type ShellOptions, type ShellProcess } from './engine-sandbox.ts';
import { EventBus } from './events.ts';
import { NetworkManager } from './network/index.ts';
import type { Namespace } from './store/namespace.ts';
import type { Store } from './store/store.ts';
import { volumeHooks, volumeUsers } from './volume/hooks.ts';
import { VolumeStore } from './volume/store.ts';

export interface EngineOptions {
  /** The engine's namespace of names over the shared store (`default` for the standalone engine). */
  namespace: string;
  /** Where the offline base-image catalog lives (an OCI image layout built at setup). */
  catalogDir: string;
  /** Version string shown by `docker version` and in the Server header. */
  version: string;
  /** The engine's own state: containers, networks, runc state, the writable-layer area. Shown as DockerRootDir. */
  stateDir: string;
  /** The engine's "host" network namespace: undefined for this process's own, else a /run/netns name (a sandbox). */
  hostNetns?: string;
  /** Host directories bind mounts may come from. */
  allowedBindRoots?: string[];
  /**
   * A sandbox's workspace: the learner's shell sees `hostPath` at `visiblePath` (e.g. `/workspace`), so bind
   * sources under `visiblePath` are read as paths in `hostPath` (see container/workspace-bind.ts).
   */
  workspace?: { hostPath: string; visiblePath: string };
  /** Resource policy for containers (defaults apply where unset). */
  limits?: Partial<RuntimeLimits>;
  /** CIDRs containers may reach outside their networks; none by default. */
  egressAllow?: string[];
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
    readonly network: NetworkManager,
    readonly containers: ContainerRuntime,
    readonly volumes: VolumeStore,
    /** Every service's events, for `docker events`. */
    readonly events: EventBus,
    readonly options: EngineOptions,
  ) {}

  static async open(store: Store, options: EngineOptions): Promise<Engine> {
    const ns = await store.namespace(options.namespace);
    const catalog = await Catalog.open(options.catalogDir);
    const events = new EventBus();
    // The hooks are called only after open, when both services exist.
    const late: { containers?: ContainerRuntime; volumes?: VolumeStore } = {};
    const bindRules = { roots: options.allowedBindRoots ?? [], ...(options.workspace ? { workspace: options.workspace } : {}) };
    // The catalog import, the network and the runtime are independent: they open side by side, so a sandbox
    // is ready after the slowest of them, not after their sum.
    const network = NetworkManager.open({
      stateDir: options.stateDir,
      ...(options.hostNetns !== undefined ? { hostNetns: options.hostNetns } : {}),
      ...(options.egressAllow ? { egressAllow: options.egressAllow } : {}),
      // One netns made ahead: a container start then skips making its own.
      spareNetns: 1,
    });
    const runtime = ContainerRuntime.open({
      store,
      stateDir: path.join(options.stateDir, 'engine'),
      ...(options.limits ? { limits: options.limits } : {}),
      allowedBindRoots: bindRules.roots,
      ...(options.workspace ? { workspace: options.workspace } : {}),
      network: deferredNetworkHooks(network, (id) => late.containers!.inspect(id).record),
      volumes: volumeHooks(() => late.volumes!, store, bindRules, events),
      events: (action, record, extra) => events.emit('container', action, record.Id, { ...(record.Config.Labels ?? {}), ...extra, image: record.Config.Image, name: record.Name.slice(1) }),
    });
    // A new namespace starts with the whole catalog, as a fresh Docker host would after pulling it.
    const imported = ns.fresh ? catalog.importAll(store, ns) : undefined;
    const [net, containers] = await openedOrUndone(network, runtime, imported);
    late.containers = containers;
    // On the writable area, so volume data counts against the engine's disk quota.
    const volumes = await VolumeStore.open(path.join(containers.areaDir, 'volumes'), volumeUsers(() => containers.list()));
    late.volumes = volumes;
    return new Engine(store, ns, catalog, net, containers, volumes, events, options);
  }

  /** The engine's host netns (a sandbox's), or undefined for the engine process's own. */
  get hostNetns(): string | undefined {
    return this.options.hostNetns;
  }

  get limits(): ArchiveLimits {
    return this.store.limits;
  }

  /** Stop every container (the shell too) and remove the engine's network devices and rules. */
  async close(): Promise<void> {
    await this.containers.close();
    await this.network.shutdown();
  }

  private destroying?: Promise<void>;

  /**
   * A sandbox's end: close, then forget the namespace (its images go with the garbage collection run here,
   * unless another namespace holds them) and delete the state dir. The host netns is the caller's. Calling
   * it again returns the same promise.
   */
  destroy(): Promise<void> {
    this.destroying ??= this.removeEverything();
    return this.destroying;
  }

  private async removeEverything(): Promise<void> {
    await this.close();
    this.containers.releaseRoots();
    await this.store.removeNamespace(this.ns.name);
    await this.store.collectGarbage();
    await fs.rm(this.options.stateDir, { recursive: true, force: true });
  }

  /**
   * The learner's shell: a hidden container of this engine (not listed, not reachable through the API, not
   * counted in maxContainers, no events) in the engine's host netns, so `localhost:<published port>` works.
   * Killed by close(); removed with its writable layer when it exits.
   */
  startShell(opts: ShellOptions): Promise<ShellProcess> {
    return startShell({ store: this.store, ns: this.ns, containers: this.containers, hostNetns: this.options.hostNetns }, opts);
  }

  /** Ports published by running containers; `events` (container start/die/destroy) says when to ask again. */
  publishedPorts(): EnginePublishedPort[] {
    return publishedPorts(this.network, this.containers);
  }
}

/** Wait for the parts of an engine; if one failed, close the others that opened, then fail. */
async function openedOrUndone(network: Promise<NetworkManager>, runtime: Promise<ContainerRuntime>, imported: Promise<unknown> | undefined): Promise<[NetworkManager, ContainerRuntime]> {
  const [net, rt, imp] = await Promise.allSettled([network, runtime, imported]);
  const failed = [net, rt, imp].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return [(net as PromiseFulfilledResult<NetworkManager>).value, (rt as PromiseFulfilledResult<ContainerRuntime>).value];
  if (rt.status === 'fulfilled') await rt.value.close().catch(() => undefined);
  if (net.status === 'fulfilled') await net.value.shutdown().catch(() => undefined);
  throw failed.reason;
}
