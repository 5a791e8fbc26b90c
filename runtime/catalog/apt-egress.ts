import { promises as dns } from 'node:dns';
import { hostAptUris } from './debian.ts';
import { catalogError } from './recipe.ts';

/** What a catalog build step needs to reach the host's Debian mirrors, and nothing else. */
export interface AptEgress {
  /** The archive URLs of the host's apt sources. */
  uris: string[];
  /** `host:ip` for the build containers' /etc/hosts: apt finds the mirrors without a DNS server. */
  extraHosts: string[];
  /** `ip/32` of every mirror address: the only places build containers may connect to. */
  egressAllow: string[];
}

/** Resolve the hosts of this machine's apt sources (here, with the host's resolver) to their IPv4 addresses. */
export async function aptEgress(): Promise<AptEgress> {
  const uris = await hostAptUris();
  const hosts = [...new Set(uris.map((u) => new URL(u).hostname))];
  const extraHosts: string[] = [];
  const addresses = new Set<string>();
  for (const host of hosts) {
    const found = await dns.lookup(host, { all: true, family: 4 }).catch((err: unknown) => {
      throw catalogError(`the apt source host ${host} does not resolve: ${err instanceof Error ? err.message : String(err)}`, err);
    });
    // /etc/hosts takes the first line for a name; every address is allowed, so any of them would do.
    extraHosts.push(`${host}:${found[0]!.address}`);
    for (const a of found) addresses.add(a.address);
  }
  if (hosts.length === 0) throw catalogError('the host apt sources name no archive URL');
  return { uris, extraHosts, egressAllow: [...addresses].map((a) => `${a}/32`) };
}
