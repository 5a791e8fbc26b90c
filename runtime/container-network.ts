import type { ContainerRecord } from './container/types.ts';
import type { NetworkHooks } from './container/runtime.ts';
import { portRequestsFromConfig, type NetworkManager } from './network/index.ts';

/** The networks a container joins: its NetworkMode (`default` is Docker's name for `bridge`). */
export function primaryNetwork(record: Pick<ContainerRecord, 'HostConfig'>): string {
  const mode = record.HostConfig.NetworkMode;
  return !mode || mode === 'default' ? 'bridge' : mode;
}

/**
 * Joins the container runtime to the network manager: when runc is about to start a container, create its
 * network namespace; then, once runc runs and while it sets the container up, attach it to its network and
 * publish its ports (the runtime holds the container's process until that is done). Tear all of it down when
 * it stops.
 */
export function networkHooks(net: NetworkManager, lookup: (id: string) => ContainerRecord): NetworkHooks {
  return {
    async setupContainer(id, opts) {
      const { netnsPath } = await net.setupContainer(id, opts);
      const connectNow = async () => {
        try {
          await connect(net, id, lookup);
        } catch (err) {
          await net.teardownContainer(id);
          throw err;
        }
      };
      return { netnsPath, connect: connectNow };
    },
    // The container's processes are gone: its devices can go right after, under the network's lock.
    async teardownContainer(id) {
      await net.releaseContainer(id);
    },
  };
}

/** Attach a set-up container to its network and publish its ports (each queued at once on the network's lock). */
async function connect(net: NetworkManager, id: string, lookup: (id: string) => ContainerRecord): Promise<void> {
  const record = lookup(id);
  await net.attach(id, primaryNetwork(record));
  const requests = portRequestsFromConfig(record.HostConfig.PortBindings, record.Config.ExposedPorts, record.HostConfig.PublishAllPorts === true);
  await net.publishPorts(id, requests);
}

/**
 * networkHooks for a manager still opening: the runtime can open side by side with it, and the first hook
 * call waits for it (calls come only once both are open, or from the runtime's recovery at open).
 */
export function deferredNetworkHooks(net: Promise<NetworkManager>, lookup: (id: string) => ContainerRecord): NetworkHooks {
  const hooks = net.then((n) => networkHooks(n, lookup));
  // A failed open is reported by whoever awaits `net`; unobserved here, it must not count as unhandled.
  hooks.catch(() => undefined);
  return {
    setupContainer: async (id, opts) => (await hooks).setupContainer(id, opts),
    teardownContainer: async (id) => (await hooks).teardownContainer(id),
  };
}
