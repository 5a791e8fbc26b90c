import { conflict, forbidden, invalid } from '../errors.ts';
import { allDone } from '../util/settle.ts';
import { bridgeName, createEndpointDevices, linkExists, loopbackUp, removeLink, setDefaultRoute, vethName } from './devices.ts';
import type { NetCore } from './core.ts';
import { isHostName } from './hosts-file.ts';
import { allocateIp, checkRequestedIp } from './ipam.ts';
import { macForIp, parseCidr, parseIp } from './ipv4.ts';
import { newId, resolvesNames } from './networks.ts';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from './state.ts';

/** Options of `docker network connect` / the create request's EndpointsConfig, already parsed. */
export interface AttachOptions {
  aliases?: string[];
  /** `--ip`: a fixed address, only on networks with a learner-chosen subnet. */
  ipv4Address?: string;
}

export const HOST_REFUSED = 'host networking is not allowed: every container gets its own network namespace (--network=host would share the sandbox host\'s)';

/** The running container's record, or a conflict naming what the runtime forgot. */
export function containerRecord(core: NetCore, id: string): ContainerRecord {
  const c = core.state.containers[id];
  if (!c) throw conflict(`container ${id} has no network namespace: call setupContainer first`);
  return c;
}

function checkAttach(c: ContainerRecord, net: NetworkRecord, opts: AttachOptions, core: NetCore): void {
  if (net.driver === 'host') throw forbidden(HOST_REFUSED);
  if (c.endpoints.some((e) => e.networkId === net.id)) throw forbidden(`endpoint with name ${c.name} already exists in network ${net.name}`);
  const hasNone = c.endpoints.some((e) => core.network(e.networkId)?.driver === 'null');
  if ((net.driver === 'null' && c.endpoints.length > 0) || hasNone) {
    throw forbidden('container cannot be connected to multiple networks with one of the networks in private (none) mode');
  }
  const aliases = opts.aliases ?? [];
  if (aliases.length > 0 && !resolvesNames(net)) throw invalid('network-scoped alias is supported only for containers in user defined networks');
  for (const a of aliases) if (!isHostName(a)) throw invalid(`invalid alias: ${JSON.stringify(a)}`);
  if (opts.ipv4Address && !net.userSubnet) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
}

function usedIps(core: NetCore, networkId: string): Set<string> {
  return new Set(Object.values(core.state.containers).flatMap((o) => o.endpoints.filter((e) => e.networkId === networkId).map((e) => e.ip)));
}

function nextIfName(c: ContainerRecord): string {
  const taken = new Set(c.endpoints.map((e) => e.ifName));
  for (let i = 0; ; i++) if (!taken.has(`eth${i}`)) return `eth${i}`;
}

function planEndpoint(core: NetCore, c: ContainerRecord, net: NetworkRecord, opts: AttachOptions): EndpointRecord {
  const id = newId();
  const base = { id, networkId: net.id, aliases: [...new Set(opts.aliases ?? [])] };
  if (net.driver !== 'bridge') return { ...base, ifName: '', hostIf: '', ip: '', mac: '' };
  const used = usedIps(core, net.id);
  const ip = opts.ipv4Address ? checkRequestedIp(opts.ipv4Address, net.subnet!, net.gateway!, used) : allocateIp(net.subnet!, net.gateway!, used);
  const ep: EndpointRecord = { ...base, ifName: nextIfName(c), hostIf: vethName(id), ip, mac: macForIp(parseIp(ip)!) };
  if (opts.ipv4Address) ep.requestedIp = opts.ipv4Address;
  return ep;
}

/**
 * Connect a set-up container to a network. The endpoint is on disk before any device exists. When its
 * bridge exists already (the rules' model does not change), the rules are checked side by side with that.
 */
export async function attachEndpoint(core: NetCore, c: ContainerRecord, net: NetworkRecord, opts: AttachOptions): Promise<EndpointRecord> {
  checkAttach(c, net, opts, core);
  const ep = planEndpoint(core, c, net, opts);
  c.endpoints.push(ep);
  try {
    const devices = async () => {
      await core.save();
      await (ep.hostIf ? plumb(core, c, net, ep) : loopbackUp(c.netns));
    };
    const modelKnown = !ep.hostIf || core.bridges.has(net.id);
    await allDone([devices(), modelKnown ? core.applyFirewall() : undefined]);
    if (!modelKnown) await core.applyFirewall();
    await core.refreshHosts([c.id, ...core.neighbours(c.id, [net.id])], c.id);
  } catch (err) {
    // Report the attach failure, not a rollback one; restart recovery removes anything left behind.
    await removeEndpoint(core, c, ep).catch(() => undefined);
    throw err;
  }
  return ep;
}

async function plumb(core: NetCore, c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
  const prefix = parseCidr(net.subnet!)!.prefix;
  const existing = core.bridges.has(net.id);
  await createEndpointDevices({
    hostNs: core.hostNs,
    bridge: bridgeName(net.id),
    ...(existing ? {} : { newBridgeCidr: `${net.gateway}/${prefix}` }),
    hostIf: ep.hostIf,
    containerNs: c.netns,
    ifName: ep.ifName,
    mac: ep.mac,
    cidr: `${ep.ip}/${prefix}`,
    // The first network with an address carries the default route, as in Docker.
    ...(c.endpoints.find((e) => e.ip) === ep ? { defaultVia: net.gateway! } : {}),
  }).catch(async (err: unknown) => {
    // A bridge removed behind the engine's back is made again by the next attach.
    if (existing && !(await linkExists(core.hostNs, bridgeName(net.id)))) core.bridges.delete(net.id);
    throw err;
  });
  core.bridges.add(net.id);
}

/**
 * Take an endpoint down and out of state: veth, default route, bridge when it was the last one, rules,
 * hosts files. Used by detach, teardown and attach's rollback.
 */
export async function removeEndpoint(core: NetCore, c: ContainerRecord, ep: EndpointRecord): Promise<void> {
  const wasPrimary = core.primaryIp(c) === ep.ip && ep.ip !== '';
  if (ep.hostIf) await removeLink(core.hostNs, ep.hostIf);
  c.endpoints = c.endpoints.filter((e) => e.id !== ep.id);
  if (!core.primaryIp(c)) c.ports = [];
  await core.save();
  if (wasPrimary && core.state.containers[c.id]) {
    const next = c.endpoints.find((e) => e.ip);
    await setDefaultRoute(c.netns, next ? core.network(next.networkId)?.gateway : undefined, next?.ifName);
  }
  await core.pruneBridges();
  await core.applyFirewall();
  await core.refreshHosts([c.id, ...core.neighbours(c.id, [ep.networkId])]);
}

/** Find the container's endpoint on a network, or Docker's error for a container not connected to it. */
export function endpointOn(c: ContainerRecord, net: NetworkRecord): EndpointRecord {
  const ep = c.endpoints.find((e) => e.networkId === net.id);
  if (!ep) throw forbidden(`container ${c.id} is not connected to network ${net.name}`);
  return ep;
}
