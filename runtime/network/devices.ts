import { ignoreMissing, ip, setSysctl, type HostNetns } from './netns.ts';

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
  try {
    await ip(ns, ['link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

/** Create the bridge with its gateway address, unless it exists. */
export async function ensureBridge(ns: HostNetns, name: string, gatewayCidr: string): Promise<void> {
  if (await linkExists(ns, name)) return;
  await ip(ns, ['link', 'add', 'name', name, 'type', 'bridge']);
  // No IPv6 on the bridge: its link-local address would let containers reach host services bound to ::.
  await setSysctl(ns, `net.ipv6.conf.${name}.disable_ipv6`, '1');
  // Lets DNAT'ed connections from 127.0.0.1 in the host netns leave through the bridge (published ports).
  await setSysctl(ns, `net.ipv4.conf.${name}.route_localnet`, '1');
  await ip(ns, ['addr', 'add', gatewayCidr, 'dev', name]);
  await ip(ns, ['link', 'set', 'dev', name, 'up']);
}

export async function removeLink(ns: HostNetns, name: string): Promise<void> {
  await ignoreMissing(ip(ns, ['link', 'delete', 'dev', name]));
}

export interface EndpointDevices {
  hostNs: HostNetns;
  bridge: string;
  hostIf: string;
  containerNs: string;
  ifName: string;
  mac: string;
  /** Address with prefix, e.g. 172.18.0.2/16. */
  cidr: string;
}

/** Create and wire one veth pair. On failure the pair is removed (deleting one end removes both). */
export async function createEndpointDevices(d: EndpointDevices): Promise<void> {
  try {
    await ip(d.hostNs, ['link', 'add', 'name', d.hostIf, 'type', 'veth', 'peer', 'name', d.ifName, 'address', d.mac, 'netns', d.containerNs]);
    await ip(d.hostNs, ['link', 'set', 'dev', d.hostIf, 'master', d.bridge]);
    // A bridge port never needs an address of its own; without one there is nothing on the host to probe.
    await setSysctl(d.hostNs, `net.ipv6.conf.${d.hostIf}.disable_ipv6`, '1');
    await ip(d.hostNs, ['link', 'set', 'dev', d.hostIf, 'up']);
    await ip(d.containerNs, ['addr', 'add', d.cidr, 'dev', d.ifName]);
    await ip(d.containerNs, ['link', 'set', 'dev', d.ifName, 'up']);
  } catch (err) {
    await removeLink(d.hostNs, d.hostIf);
    throw err;
  }
}

/** Point the container's default route at a network's gateway (or drop it when there is none left). */
export async function setDefaultRoute(containerNs: string, gateway: string | undefined, ifName: string | undefined): Promise<void> {
  if (gateway && ifName) {
    await ip(containerNs, ['route', 'replace', 'default', 'via', gateway, 'dev', ifName]);
  } else {
    await ignoreMissing(ip(containerNs, ['route', 'delete', 'default']));
  }
}
