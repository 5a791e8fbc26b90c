import { conflict, EngineError, forbidden, invalid } from '../errors.ts';
import { contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, size, within, type Subnet } from './ipv4.ts';

/** Docker's default pools: 172.17/16 for `bridge`, then 172.18–31/16, then 192.168.x.0/20. */
export function defaultPools(): Subnet[] {
  const pools: Subnet[] = [];
  for (let b = 17; b <= 31; b++) pools.push({ base: parseIp(`172.${b}.0.0`)!, prefix: 16 });
  for (let c = 0; c < 256; c += 16) pools.push({ base: parseIp(`192.168.${c}.0`)!, prefix: 20 });
  return pools;
}

/**
 * Only private space may become a network. A bridge address in link-local (metadata), loopback, public or
 * the host's own ranges would hijack the host netns's routing, which on the standalone engine is the
 * machine's.
 */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((c) => parseCidr(c)!);

export const POOL_OVERLAP = 'Pool overlaps with other one on this address space';

/** The first pool overlapping neither an existing network nor a route of the host netns. */
export function pickSubnet(pools: readonly Subnet[], taken: readonly Subnet[]): Subnet {
  const free = pools.find((p) => !taken.some((t) => overlaps(p, t)));
  if (!free) throw new EngineError('FORBIDDEN', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  return free;
}

/** Check a learner's `--subnet`/`--gateway` and return them normalised. */
export function checkUserSubnet(subnetText: string, gatewayText: string | undefined, taken: readonly Subnet[]): { subnet: Subnet; gateway: number } {
  const subnet = parseCidr(subnetText);
  if (!subnet) throw invalid(`invalid CIDR address: ${subnetText}`);
  if (subnet.prefix < 8 || subnet.prefix > 30) throw invalid(`invalid subnet ${subnetText}: the prefix length must be between 8 and 30`);
  if (!PRIVATE.some((p) => within(subnet, p))) {
    throw forbidden(`subnet ${formatCidr(subnet)} is not allowed: use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)`);
  }
  if (taken.some((t) => overlaps(subnet, t))) throw forbidden(POOL_OVERLAP);
  if (gatewayText === undefined || gatewayText === '') return { subnet, gateway: subnet.base + 1 };
  const gateway = parseIp(gatewayText);
  if (gateway === undefined) throw invalid(`invalid gateway address: ${gatewayText}`);
  if (!isHost(subnet, gateway)) throw invalid(`no matching subnet for gateway ${gatewayText}`);
  return { subnet, gateway };
}

/** True for a usable host address: inside the subnet, neither its network nor its broadcast address. */
export function isHost(s: Subnet, ip: number): boolean {
  return contains(s, ip) && ip !== s.base && ip !== s.base + size(s) - 1;
}

/** The lowest free host address, skipping the gateway and addresses in use. */
export function allocateIp(subnetText: string, gatewayText: string, used: ReadonlySet<string>): string {
  const s = parseCidr(subnetText)!;
  const last = s.base + size(s) - 2;
  for (let ip = s.base + 1; ip <= last; ip++) {
    const text = formatIp(ip);
    if (text !== gatewayText && !used.has(text)) return text;
  }
  throw conflict(`no available IPv4 addresses on this network's address pools: ${subnetText}`);
}

/** Check a fixed `--ip` against the network. */
export function checkRequestedIp(requested: string, subnetText: string, gatewayText: string, used: ReadonlySet<string>): string {
  const s = parseCidr(subnetText)!;
  const ip = parseIp(requested);
  if (ip === undefined) throw invalid(`invalid IPv4 address: ${requested}`);
  if (!isHost(s, ip)) throw invalid(`no configured subnet or ip-range contain the IP address ${requested}`);
  if (requested === gatewayText || used.has(requested)) throw forbidden('Address already in use');
  return requested;
}
