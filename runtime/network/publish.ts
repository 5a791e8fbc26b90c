import { conflict } from '../errors.ts';
import type { NetCore } from './core.ts';
import { inNetns } from './netns.ts';
import { clashes, parseListening, RANDOM_PORT_MAX, RANDOM_PORT_MIN, type PortRequest } from './ports.ts';
import type { ContainerRecord, PublishedPort } from './state.ts';

/**
 * Port publishing by DNAT in the host netns (see firewall.ts): no proxy process to start in a sandbox's
 * netns or to reap. A port counts as taken when one of this engine's containers publishes it or when a
 * process in the host netns listens on it (a DNAT rule would silently shadow that listener).
 */
export async function publishPorts(core: NetCore, c: ContainerRecord, requests: readonly PortRequest[]): Promise<PublishedPort[]> {
  if (requests.length === 0 || !core.primaryIp(c)) return [];
  const taken = Object.values(core.state.containers).flatMap((o) => o.ports);
  const listening = {
    tcp: parseListening(await inNetns(core.hostNs, 'ss', ['-Hlnt'])),
    udp: parseListening(await inNetns(core.hostNs, 'ss', ['-Hlnu'])),
  };
  const added: PublishedPort[] = [];
  for (const r of requests) {
    const free = (port: number) => ![...taken, ...added].some((p) => clashes(p, r.proto, r.hostIp, port)) && !listening[r.proto].has(port);
    added.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: pickPort(c, r, free, listening[r.proto]) });
  }
  const before = c.ports;
  c.ports = [...c.ports, ...added];
  try {
    await core.save();
    await core.applyFirewall();
  } catch (err) {
    c.ports = before;
    await core.save();
    await core.applyFirewall();
    throw err;
  }
  return added;
}

function pickPort(c: ContainerRecord, r: PortRequest, free: (port: number) => boolean, listening: Set<number>): number {
  const [lo, hi] = r.hostPortMin === 0 ? [RANDOM_PORT_MIN, RANDOM_PORT_MAX] : [r.hostPortMin, r.hostPortMax];
  for (let port = lo; port <= hi; port++) if (free(port)) return port;
  const ep = c.endpoints.find((e) => e.ip);
  const prefix = `driver failed programming external connectivity on endpoint ${c.name} (${ep?.id ?? ''}): `;
  const addr = `${r.hostIp || '0.0.0.0'}:${r.hostPortMin}`;
  if (r.hostPortMin === 0) throw conflict(`${prefix}Bind for ${r.hostIp || '0.0.0.0'}:0 failed: all ports are allocated`);
  if (lo === hi && listening.has(lo)) {
    throw conflict(`${prefix}Error starting userland proxy: listen ${r.proto}4 ${addr}: bind: address already in use`);
  }
  throw conflict(`${prefix}Bind for ${addr} failed: port is already allocated`);
}
