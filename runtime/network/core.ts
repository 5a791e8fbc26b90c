import { bridgeName, removeLink } from './devices.ts';
import { Firewall, type FirewallModel } from './firewall.ts';
import { renderHosts, writeHostsFile, type HostsEntry } from './hosts-file.ts';
import { parseCidr, type Subnet } from './ipv4.ts';
import { resolvesNames } from './networks.ts';
import { deleteNetns, ip, ipBatch, listNetns, type HostNetns } from './netns.ts';
import type { ContainerRecord, NetState, NetworkRecord, StateFile } from './state.ts';

/**
 * What every network operation shares: the host netns, the state and its file, the firewall, and the
 * derived views of state (which bridges are live, what the firewall and hosts files must say).
 */
export class NetCore {
  /** Networks whose bridge exists: made by this process since its reset (which removes every bridge). */
  readonly bridges = new Set<string>();

  constructor(
    readonly hostNs: HostNetns,
    /** Short, stable tag of this engine (from its state dir), part of its netns and chain names. */
    readonly tag: string,
    readonly state: NetState,
    private readonly file: StateFile,
    readonly firewall: Firewall,
    readonly egressAllow: readonly string[],
    readonly pools: readonly Subnet[],
  ) {}

  /** Prefix of every container netns this engine creates under /run/netns. */
  get netnsPrefix(): string {
    return `layerlab-${this.tag}-`;
  }

  save(): Promise<void> {
    return this.file.save(this.state);
  }

  network(id: string): NetworkRecord | undefined {
    return this.state.networks.find((n) => n.id === id);
  }

  /** Networks with at least one endpoint: exactly those whose bridge must exist. */
  liveBridgeNetworks(): NetworkRecord[] {
    const ids = new Set(Object.values(this.state.containers).flatMap((c) => c.endpoints.map((e) => e.networkId)));
    return this.state.networks.filter((n) => n.driver === 'bridge' && ids.has(n.id));
  }

  /** The address a container's published ports lead to: its first network with an address. */
  primaryIp(c: ContainerRecord): string | undefined {
    return c.endpoints.find((e) => e.ip)?.ip;
  }

  /** Rules exist exactly while their bridge does (a bridge may outlive its last endpoint for a moment). */
  firewallModel(): FirewallModel {
    const bridges = this.state.networks.filter((n) => n.driver === 'bridge' && this.bridges.has(n.id)).map((n) => ({
      name: bridgeName(n.id),
      subnet: n.subnet!,
      egressAllow: n.internal ? [] : this.egressAllow,
    }));
    const ports = Object.values(this.state.containers).flatMap((c) => {
      const destIp = this.primaryIp(c);
      return destIp ? c.ports.map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, destIp, destPort: p.containerPort })) : [];
    });
    return { bridges, ports };
  }

  applyFirewall(): Promise<void> {
    return this.firewall.apply(this.firewallModel());
  }

  /** Re-apply the rules if someone changed them behind the engine's back. */
  repairFirewall(): Promise<void> {
    return this.firewall.repair(this.firewallModel());
  }

  /** Subnets a new network must not overlap: every network's, and every route of the host netns. */
  async takenSubnets(): Promise<Subnet[]> {
    const taken = this.state.networks.flatMap((n) => (n.subnet ? [parseCidr(n.subnet)!] : []));
    const routes = JSON.parse(await ip(this.hostNs, ['-j', '-4', 'route', 'show'])) as Array<{ dst?: string }>;
    for (const r of routes) {
      const cidr = r.dst && r.dst !== 'default' ? parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`) : undefined;
      if (cidr) taken.push(cidr);
    }
    return taken;
  }

  /** Networks whose bridge exists but that have no endpoint left. */
  deadBridges(): string[] {
    const live = new Set(this.liveBridgeNetworks().map((n) => n.id));
    return [...this.bridges].filter((id) => !live.has(id));
  }

  /** Delete links (by name) and the bridges of `networkIds`, in one `ip` run; missing ones are fine. */
  async removeLinks(names: readonly string[], networkIds: readonly string[] = []): Promise<void> {
    await ipBatch(this.hostNs, [...names, ...networkIds.map(bridgeName)].map((n) => `link delete dev ${n}`), { force: true });
    for (const id of networkIds) this.bridges.delete(id);
  }

  /** Remove bridges of networks that have no endpoint left. */
  async pruneBridges(): Promise<void> {
    await this.removeLinks([], this.deadBridges());
  }

  /**
   * Rewrite the hosts files of the given containers. Peers are every container sharing a user-defined
   * network, by container name, aliases and short ID (what Docker's embedded DNS answers).
   */
  async refreshHosts(ids: Iterable<string>, strict?: string): Promise<void> {
    for (const id of new Set(ids)) {
      const c = this.state.containers[id];
      if (!c?.hostsPath) continue;
      try {
        await writeHostsFile(c.hostsPath, renderHosts(this.ownEntries(c), c.extraHosts, this.peerEntries(c)));
      } catch (err) {
        // A peer's file may vanish while it is being removed; only the container being changed must succeed.
        if (id === strict) throw err;
      }
    }
  }

  private ownEntries(c: ContainerRecord): HostsEntry[] {
    const ips = c.endpoints.filter((e) => e.ip).map((e) => e.ip);
    return ips.length > 0 ? [...new Set(ips)].map((ip) => ({ ip, names: [c.hostname] })) : [];
  }

  private peerEntries(c: ContainerRecord): HostsEntry[] {
    const out: HostsEntry[] = [];
    for (const ep of c.endpoints) {
      const net = this.network(ep.networkId);
      if (!net || !resolvesNames(net)) continue;
      for (const o of Object.values(this.state.containers)) {
        const oep = o.id === c.id ? undefined : o.endpoints.find((e) => e.networkId === net.id);
        if (oep?.ip) out.push({ ip: oep.ip, names: [o.name, ...oep.aliases, o.id.slice(0, 12)] });
      }
    }
    return out;
  }

  /** Containers sharing a network with `id` (the hosts files an attach or detach of `id` changes). */
  neighbours(id: string, networkIds: Iterable<string>): string[] {
    const nets = new Set(networkIds);
    return Object.values(this.state.containers)
      .filter((o) => o.id !== id && o.endpoints.some((e) => nets.has(e.networkId)))
      .map((o) => o.id);
  }

  /**
   * Remove every device, netns and rule this engine made, keeping networks: used at open (the previous
   * process's containers are gone) and at shutdown. Each step is idempotent, so a crash mid-way is replayed.
   */
  async reset(): Promise<void> {
    for (const c of Object.values(this.state.containers)) {
      for (const ep of c.endpoints) if (ep.hostIf) await removeLink(this.hostNs, ep.hostIf);
      await deleteNetns(c.netns);
    }
    for (const name of await listNetns(this.netnsPrefix)) await deleteNetns(name);
    for (const n of this.state.networks) if (n.driver === 'bridge') await removeLink(this.hostNs, bridgeName(n.id));
    this.bridges.clear();
    await this.firewall.remove();
    this.state.containers = {};
    await this.save();
  }
}
