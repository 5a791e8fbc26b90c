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
 * network namespace, attach it to its network and publish its ports; tear all of it down when it stops.
 */
export function networkHooks(net: NetworkManager, lookup: (id: string) => ContainerRecord): NetworkHooks {
  return {
    async setupContainer(id, opts) {
      const { netnsPath } = await net.setupContainer(id, opts);
      try {
        const record = lookup(id);
        await net.attach(id, primaryNetwork(record));
        const requests = portRequestsFromConfig(record.HostConfig.PortBindings, record.Config.ExposedPorts, record.HostConfig.PublishAllPorts === true);
        await net.publishPorts(id, requests);
      } catch (err) {
        await net.teardownContainer(id);
        throw err;
      }
      return { netnsPath };
    },
    // The container's processes are gone: its devices can go right after, under the network's lock.
    async teardownContainer(id) {
      await net.releaseContainer(id);
    },
  };
}
