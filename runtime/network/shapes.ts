import { parseCidr } from './ipv4.ts';
import { bridgeName } from './devices.ts';
import { portsMap } from './ports.ts';
import type { ContainerRecord, EndpointRecord, NetState, NetworkRecord } from './state.ts';

/**
 * Docker's JSON shapes for networks and a container's NetworkSettings (engine-api-facts §7.32, §9.1,
 * §7.29), built from state. Field order follows the real daemon's.
 */

function prefixOf(net: NetworkRecord | undefined): number {
  return net?.subnet ? parseCidr(net.subnet)!.prefix : 0;
}

/** GET /networks and /networks/{id}. `withContainers` fills Containers, as inspect does and ls does not. */
export function networkResource(state: NetState, net: NetworkRecord, withContainers: boolean): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  if (withContainers) {
    for (const c of Object.values(state.containers)) {
      const ep = c.endpoints.find((e) => e.networkId === net.id);
      if (!ep) continue;
      containers[c.id] = {
        Name: c.name,
        EndpointID: ep.id,
        MacAddress: ep.mac,
        IPv4Address: ep.ip ? `${ep.ip}/${prefixOf(net)}` : '',
        IPv6Address: '',
      };
    }
  }
  const options = net.driver === 'bridge' ? { 'com.docker.network.bridge.name': bridgeName(net.id), ...net.options } : net.options;
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: net.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: net.subnet ? [{ Subnet: net.subnet, Gateway: net.gateway }] : [] },
    Internal: net.internal,
    Attachable: net.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: net.labels,
  };
}

function endpointSettings(net: NetworkRecord | undefined, ep: EndpointRecord | undefined, aliases: string[] | null): Record<string, unknown> {
  return {
    IPAMConfig: ep?.requestedIp ? { IPv4Address: ep.requestedIp } : null,
    Links: null,
    Aliases: aliases,
    NetworkID: net?.id ?? '',
    EndpointID: ep?.id ?? '',
    Gateway: ep?.ip ? (net?.gateway ?? '') : '',
    IPAddress: ep?.ip ?? '',
    IPPrefixLen: ep?.ip ? prefixOf(net) : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: ep?.mac ?? '',
    DriverOpts: null,
  };
}

/** One container's EndpointSettings for a network (the `Networks.<name>` value and attach's result). */
export function endpointJson(state: NetState, c: ContainerRecord, ep: EndpointRecord): Record<string, unknown> {
  const net = state.networks.find((n) => n.id === ep.networkId);
  return endpointSettings(net, ep, endpointAliases(net, c, ep));
}

function endpointAliases(net: NetworkRecord | undefined, c: ContainerRecord, ep: EndpointRecord): string[] | null {
  // dockerd 20.10 lists the short ID among the aliases on user-defined networks.
  return net && net.driver === 'bridge' && net.name !== 'bridge' ? [c.id.slice(0, 12), ...ep.aliases] : null;
}

export interface SettingsOptions {
  /** Config.ExposedPorts keys (`80/tcp`), so exposed-but-unpublished ports show as null. */
  exposedPorts?: readonly string[];
  /** Networks the container is configured for, shown (empty) when it is not running. */
  networks?: readonly string[];
}

/** NetworkSettings of container inspect. Top-level addresses come from the default `bridge` network only. */
export function networkSettings(state: NetState, id: string, c: ContainerRecord | undefined, opts: SettingsOptions): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const ep of c?.endpoints ?? []) {
    const net = state.networks.find((n) => n.id === ep.networkId);
    if (net) networks[net.name] = endpointJson(state, c!, ep);
  }
  for (const name of opts.networks ?? []) {
    if (!(name in networks)) networks[name] = endpointSettings(state.networks.find((n) => n.name === name), undefined, null);
  }
  const bridge = state.networks.find((n) => n.name === 'bridge');
  const def = c?.endpoints.find((e) => e.networkId === bridge?.id);
  return {
    Bridge: '',
    SandboxID: c ? id : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsMap(opts.exposedPorts ?? [], c?.ports ?? []),
    SandboxKey: c ? `/run/netns/${c.netns}` : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: def?.id ?? '',
    Gateway: def ? (bridge?.gateway ?? '') : '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: def?.ip ?? '',
    IPPrefixLen: def ? prefixOf(bridge) : 0,
    IPv6Gateway: '',
    MacAddress: def?.mac ?? '',
    Networks: networks,
  };
}
