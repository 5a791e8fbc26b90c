import { allDone } from '../util/settle.ts';
import { ignoreMissing, ip, ipBatch, setSysctls, type HostNetns } from './netns.ts';

/**
 * Link-level plumbing with iproute2: one bridge per network in the host netns, one veth pair per endpoint
 * (host end on the bridge, container end moved straight into the container's netns).
 */

/** The bridge device of a network: derived from its id, so recovery can name it from state alone. */
export function bridgeName(networkId: string): string {
  return `llbr${networkId.slice(0, 10)}`;
}

/** The host end of an endpoint's veth pair (IFNAMSIZ allows 15 characters). */
export function vethName(endpointId: string): string {
  return `llv${endpointId.slice(0, 11)}`;
}

export async function linkExists(ns: HostNetns, name: string): Promise<boolean> {
  return ip(ns, ['link', 'show', 'dev', name]).then(() => true, () => false);
}

export async function removeLink(ns: HostNetns, name: string): Promise<void> {
  await ignoreMissing(ip(ns, ['link', 'delete', 'dev', name]));
}

export interface EndpointDevices {
  hostNs: HostNetns;
  bridge: string;
  /** The bridge's address with prefix, when the bridge does not exist yet (the network's first endpoint). */
  newBridgeCidr?: string;
  hostIf: string;
  containerNs: string;
  ifName: string;
  mac: string;
  /** Address with prefix, e.g. 172.18.0.2/16. */
  cidr: string;
  /** The gateway of the container's default route, when this endpoint carries it. */
  defaultVia?: string;
}

/**
 * Create and wire one veth pair: the host end made, enslaved and up in one `ip` run, then the container end
 * configured in another, beside a new bridge's own setup (its sysctls must precede its being up). On failure
 * the pair is removed (deleting one end removes both), and so is a bridge made here.
 */
export async function createEndpointDevices(d: EndpointDevices): Promise<void> {
  const br = d.newBridgeCidr;
  try {
    // A bridge port never needs an IPv6 address (nothing on the host to probe through it, and frames it takes
    // go to the bridge, never to its own stack): no address generation, set before it is up.
    await ipBatch(d.hostNs, [
      ...(br ? [`link add name ${d.bridge} type bridge`] : []),
      `link add name ${d.hostIf} type veth peer name ${d.ifName} address ${d.mac} netns ${d.containerNs}`,
      `link set dev ${d.hostIf} addrgenmode none`,
      `link set dev ${d.hostIf} master ${d.bridge}`,
      `link set dev ${d.hostIf} up`,
    ]);
    // The container's end needs nothing more of the host's (its gateway is on-link by its own address).
    const route = d.defaultVia ? [`route replace default via ${d.defaultVia} dev ${d.ifName}`] : [];
    // Its loopback goes up here too: a container's netns is made bare (spare-netns.ts).
    const inside = ipBatch(d.containerNs, ['link set dev lo up', `addr add ${d.cidr} dev ${d.ifName}`, `link set dev ${d.ifName} up`, ...route]);
    await allDone([br ? bringUpBridge(d.hostNs, d.bridge, br) : undefined, inside]);
  } catch (err) {
    await removeLink(d.hostNs, d.hostIf);
    if (br) await removeLink(d.hostNs, d.bridge);
    throw err;
  }
}

/**
 * A new bridge's sysctls, before it is up: no IPv6 on it (its link-local address would let containers reach
 * host services bound to ::), and route_localnet, which lets DNAT'ed connections from 127.0.0.1 in the host
 * netns leave through it. Then its address, and up.
 */
async function bringUpBridge(ns: HostNetns, bridge: string, cidr: string): Promise<void> {
  await setSysctls(ns, [[`net.ipv6.conf.${bridge}.disable_ipv6`, '1'], [`net.ipv4.conf.${bridge}.route_localnet`, '1']]);
  await ipBatch(ns, [`addr add ${cidr} dev ${bridge}`, `link set dev ${bridge} up`]);
}

/** Bring up a container netns's loopback, for a container on no network with devices (`--network none`). */
export async function loopbackUp(containerNs: string): Promise<void> {
  await ip(containerNs, ['link', 'set', 'dev', 'lo', 'up']);
}

/** Point the container's default route at a network's gateway (or drop it when there is none left). */
export async function setDefaultRoute(containerNs: string, gateway: string | undefined, ifName: string | undefined): Promise<void> {
  if (gateway && ifName) {
    await ip(containerNs, ['route', 'replace', 'default', 'via', gateway, 'dev', ifName]);
  } else {
    await ignoreMissing(ip(containerNs, ['route', 'delete', 'default']));
  }
}
