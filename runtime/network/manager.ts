import { createHash } from 'node:crypto';
import path from 'node:path';
import { forbidden, invalid } from '../errors.ts';
import { KeyedMutex } from '../util/locks.ts';
import { allDone } from '../util/settle.ts';
import { NetCore } from './core.ts';
import { attachEndpoint, containerRecord, endpointOn, HOST_REFUSED, removeEndpoint, type AttachOptions } from './endpoints.ts';
import { Firewall } from './firewall.ts';
import { parseExtraHosts } from './hosts-file.ts';
import { checkUserSubnet, defaultPools, pickSubnet } from './ipam.ts';
import { formatCidr, formatIp, parseCidr } from './ipv4.ts';
import { addBareNetns, deleteNetns, netnsExists, netnsPath, type HostNetns } from './netns.ts';
import {
  attachedCount, checkCreate, findNetwork, isPredefined, matchesFilters, newRecord, PREDEFINED,
  type NetworkCreateOptions, type NetworkFilters,
} from './networks.ts';
import { publishPorts } from './publish.ts';
import { SpareNetns } from './spare-netns.ts';
import type { PortRequest } from './ports.ts';
import { networkResource, networkSettings, endpointJson, type SettingsOptions } from './shapes.ts';
import { StateFile, type ContainerRecord, type PublishedPort } from './state.ts';

export interface NetworkManagerOptions {
  /** The engine's state dir; network state lives in `<stateDir>/networks/`. */
  stateDir: string;
  /** The engine's host netns: undefined for the process's own (standalone), or a name under /run/netns. */
  hostNetns?: HostNetns;
  /** CIDRs containers may reach outside their network (never private/host ranges). Default: none. */
  egressAllow?: readonly string[];
  /** Address pools for networks without `--subnet`, in order. Default: Docker's. */
  pools?: readonly string[];
  /** How many container netns to keep made ahead of time (see SpareNetns). Default: none. */
  spareNetns?: number;
  /** How often the firewall is checked (and repaired) while it has rules. Default: FIREWALL_CHECK_MS. */
  firewallCheckMs?: number;
}

export interface ContainerNetOptions {
  /** Container name without the leading slash: the name peers resolve. */
  name: string;
  hostname: string;
  /** The file the runtime bind-mounts as /etc/hosts; layerlab writes it now and on every change. */
  hostsPath?: string;
  /** HostConfig.ExtraHosts (`name:ip`). */
  extraHosts?: readonly string[];
}

const ID_RE = /^[0-9a-f]{12,64}$/;
/**
 * How long a bridge outlives its last endpoint when a container stops: containers started one after another
 * (a script, a loop of `docker run --rm`) reuse it instead of each making and deleting one (~50 ms of kernel
 * work). Nothing is attached to it meanwhile, and its rules stay with it.
 */
const BRIDGE_LINGER_MS = 5000;
/**
 * The firewall is checked on this period, not at each container start (one iptables-save costs the start
 * ~10 ms): rules flushed behind the engine's back are back within it, whether or not containers start.
 */
const FIREWALL_CHECK_MS = 10_000;

/**
 * Container networking for one engine: networks (bridge, none, host-refused, user-defined bridges), each
 * container's netns and endpoints, name resolution through hosts files, and published ports. All
 * mutations are serialised; each leaves state and kernel as they were when it fails.
 */
export class NetworkManager {
  private readonly mutex = new KeyedMutex();
  private reapTimer?: NodeJS.Timeout;
  private firewallTimer?: NodeJS.Timeout;

  private constructor(
    private readonly core: NetCore,
    private readonly spares: SpareNetns,
  ) {}

  /** Open the engine's network state and remove everything the previous process left (its containers are gone). */
  static async open(opts: NetworkManagerOptions): Promise<NetworkManager> {
    if (opts.hostNetns !== undefined && !(await netnsExists(opts.hostNetns))) throw invalid(`host network namespace ${opts.hostNetns} does not exist`);
    const stateDir = path.resolve(opts.stateDir);
    const tag = createHash('sha256').update(stateDir).digest('hex').slice(0, 8);
    const egress = (opts.egressAllow ?? []).map((c) => checkCidr(c));
    const pools = (opts.pools ?? []).map((c) => parseCidr(checkCidr(c))!);
    const { file, state } = await StateFile.open(stateDir);
    const firewall = new Firewall(opts.hostNetns, tag);
    const core = new NetCore(opts.hostNetns, tag, state, file, firewall, egress, pools.length > 0 ? pools : defaultPools());
    await core.reset();
    const manager = new NetworkManager(core, new SpareNetns(core.netnsPrefix, opts.spareNetns ?? 0));
    await manager.ensurePredefined();
    await manager.spares.fill();
    manager.firewallTimer = setInterval(() => void manager.locked(() => core.repairFirewall()).catch(() => undefined), opts.firewallCheckMs ?? FIREWALL_CHECK_MS);
    manager.firewallTimer.unref();
    return manager;
  }

  private async ensurePredefined(): Promise<void> {
    const state = this.core.state;
    for (const name of PREDEFINED) {
      if (state.networks.some((n) => n.name === name)) continue;
      if (name === 'bridge') {
        const subnet = pickSubnet(this.core.pools, await this.core.takenSubnets());
        state.networks.push(newRecord(name, 'bridge', { subnet: formatCidr(subnet), gateway: formatIp(subnet.base + 1) }));
      } else {
        state.networks.push(newRecord(name, name === 'host' ? 'host' : 'null'));
      }
    }
    await this.core.save();
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    return this.mutex.run('net', work);
  }

  /** `docker network create`: returns Docker's `{Id, Warning}`. No device exists until a container attaches. */
  createNetwork(opts: NetworkCreateOptions): Promise<{ Id: string; Warning: string }> {
    return this.locked(async () => {
      const state = this.core.state;
      checkCreate(state, opts);
      const taken = await this.core.takenSubnets();
      const addr = opts.subnet ? checkUserSubnet(opts.subnet, opts.gateway, taken) : undefined;
      if (!addr && opts.gateway) throw invalid('a gateway requires a subnet (--subnet)');
      const subnet = addr?.subnet ?? pickSubnet(this.core.pools, taken);
      const net = newRecord(opts.name, 'bridge', {
        subnet: formatCidr(subnet),
        gateway: formatIp(addr?.gateway ?? subnet.base + 1),
        userSubnet: addr !== undefined,
        internal: opts.internal ?? false,
        attachable: opts.attachable ?? false,
        labels: { ...opts.labels },
        options: { ...opts.options },
      });
      state.networks.push(net);
      await this.core.save();
      return { Id: net.id, Warning: '' };
    });
  }

  /** `docker network rm`. */
  removeNetwork(idOrName: string): Promise<void> {
    return this.locked(async () => {
      const state = this.core.state;
      const net = findNetwork(state, idOrName);
      if (isPredefined(net)) throw forbidden(`${net.name} is a pre-defined network and cannot be removed`);
      if (attachedCount(state, net.id) > 0) throw forbidden(`error while removing network: network ${net.name} id ${net.id} has active endpoints`);
      // Its bridge may still be lingering after its last container (see BRIDGE_LINGER_MS).
      await this.core.removeLinks([], this.core.bridges.has(net.id) ? [net.id] : []);
      state.networks = state.networks.filter((n) => n.id !== net.id);
      await this.core.save();
      await this.core.applyFirewall();
    });
  }

  /** `GET /networks` (Docker's shape, Containers left empty as dockerd does). */
  listNetworks(filters: NetworkFilters = {}): Array<Record<string, unknown>> {
    const state = this.core.state;
    return state.networks.filter((n) => matchesFilters(state, n, filters)).map((n) => networkResource(state, n, false));
  }

  /** `GET /networks/{id}`: Docker's shape with the attached containers. */
  inspectNetwork(idOrName: string): Record<string, unknown> {
    const state = this.core.state;
    return networkResource(state, findNetwork(state, idOrName), true);
  }

  /**
   * Resolve `--network` at container create, so a bad name fails before anything runs: not-found as
   * dockerd words it, and `host` refused by policy (SECURITY.md).
   */
  resolveNetwork(idOrName: string): { id: string; name: string; driver: string } {
    const net = findNetwork(this.core.state, idOrName);
    if (net.driver === 'host') throw forbidden(HOST_REFUSED);
    return { id: net.id, name: net.name, driver: net.driver };
  }

  /**
   * Create the container's netns (bare: its first attach, `none` included, brings its loopback up) and
   * write its hosts file. The runtime passes `netnsPath` to runc as the network namespace path.
   */
  setupContainer(id: string, opts: ContainerNetOptions): Promise<{ netns: string; netnsPath: string }> {
    return this.locked(async () => {
      if (!ID_RE.test(id)) throw invalid(`invalid container id: ${JSON.stringify(id)}`);
      if (this.core.state.containers[id]) throw forbidden(`container ${id} already has a network namespace`);
      if (opts.hostsPath !== undefined && !path.isAbsolute(opts.hostsPath)) throw invalid('hostsPath must be absolute');
      const extraHosts = parseExtraHosts(opts.extraHosts ?? []);
      const spare = this.spares.take();
      const netns = spare ?? `${this.core.netnsPrefix}${id}`;
      const record = { id, name: opts.name.replace(/^\//, ''), hostname: opts.hostname, netns, hostsPath: opts.hostsPath, extraHosts, endpoints: [], ports: [] };
      this.core.state.containers[id] = record;
      await this.core.save();
      try {
        if (!spare) await addBareNetns(netns);
        await this.core.refreshHosts([id], id);
      } catch (err) {
        await deleteNetns(netns);
        delete this.core.state.containers[id];
        await this.core.save();
        throw err;
      }
      return { netns, netnsPath: netnsPath(netns) };
    });
  }

  /** Connect a set-up container to a network; returns Docker's EndpointSettings for it. */
  attach(id: string, network: string, opts: AttachOptions = {}): Promise<Record<string, unknown>> {
    return this.locked(async () => {
      const c = containerRecord(this.core, id);
      const ep = await attachEndpoint(this.core, c, findNetwork(this.core.state, network), opts);
      return endpointJson(this.core.state, c, ep);
    });
  }

  /** Disconnect a running container from a network (its published ports follow its next network, if any). */
  detach(id: string, network: string): Promise<void> {
    return this.locked(async () => {
      const c = containerRecord(this.core, id);
      await removeEndpoint(this.core, c, endpointOn(c, findNetwork(this.core.state, network)));
    });
  }

  /** Publish ports in the host netns, leading to the container's primary address; returns what was bound. */
  publishPorts(id: string, requests: readonly PortRequest[]): Promise<PublishedPort[]> {
    return this.locked(() => publishPorts(this.core, containerRecord(this.core, id), requests));
  }

  /** Withdraw every port the container publishes (teardownContainer does this too). */
  unpublishPorts(id: string): Promise<void> {
    return this.locked(async () => {
      const c = containerRecord(this.core, id);
      c.ports = [];
      await this.core.save();
      await this.core.applyFirewall();
    });
  }

  /** Undo setupContainer and every attach and publish: idempotent, for stop, kill and removal. */
  async teardownContainer(id: string): Promise<void> {
    await (await this.releaseContainer(id)).gone;
    await this.locked(() => this.reapBridges());
  }

  /**
   * teardownContainer in two steps, for a container whose processes are gone: it is forgotten at once (state,
   * its peers' hosts files), and its devices, netns and rules are removed right after, as the next task
   * under the same lock, so every later network operation finds them gone. Resolves after the first step,
   * `gone` after both. After a crash between the two, open's reset removes what is left, by name.
   */
  releaseContainer(id: string): Promise<{ gone: Promise<void> }> {
    // Already released (a stopped container being removed): no need to queue behind its devices' removal.
    if (!this.core.state.containers[id]) return Promise.resolve({ gone: this.locked(() => Promise.resolve()) });
    return this.locked(async () => {
      const c = this.core.state.containers[id];
      if (!c) return { gone: Promise.resolve() };
      const nets = c.endpoints.map((e) => e.networkId);
      delete this.core.state.containers[id];
      await this.core.save();
      await this.core.refreshHosts(this.core.neighbours(id, nets));
      // Queued now, under the same lock: every later network operation finds the devices gone.
      const gone = this.locked(() => this.removeDevices(c));
      // Handled here so that a caller not waiting for it never sees an unhandled rejection.
      gone.catch(() => undefined);
      return { gone };
    });
  }

  /** A forgotten container's veths, netns and published ports, side by side; unused bridges go a little later. */
  private async removeDevices(c: ContainerRecord): Promise<void> {
    const veths = c.endpoints.flatMap((e) => (e.hostIf ? [e.hostIf] : []));
    // The rules change only if it published ports (its bridge, if unused now, goes later with its rules).
    const rules = c.ports.length > 0 ? this.core.applyFirewall() : undefined;
    await allDone([this.core.removeLinks(veths), this.spares.replace(c.netns), rules]);
    if (this.core.deadBridges().length === 0) return;
    clearTimeout(this.reapTimer);
    this.reapTimer = setTimeout(() => void this.locked(() => this.reapBridges()).catch(() => undefined), BRIDGE_LINGER_MS);
    this.reapTimer.unref();
  }

  /** Remove the bridges no endpoint uses, and their rules. */
  private async reapBridges(): Promise<void> {
    const dead = this.core.deadBridges();
    if (dead.length === 0) return;
    await this.core.removeLinks([], dead);
    await this.core.applyFirewall();
  }

  /** Every port published now, with the ID of the container it leads to. */
  publishedPorts(): Array<{ id: string; port: PublishedPort }> {
    return Object.values(this.core.state.containers).flatMap((c) => c.ports.map((port) => ({ id: c.id, port })));
  }

  /** True while the container has a netns from setupContainer. */
  hasContainer(id: string): boolean {
    return id in this.core.state.containers;
  }

  /** NetworkSettings for container inspect (and `docker port`). */
  networkSettings(id: string, opts: SettingsOptions = {}): Record<string, unknown> {
    return networkSettings(this.core.state, id, this.core.state.containers[id], opts);
  }

  /** Remove every netns, device and rule (engine stop, sandbox destruction); networks stay in state. */
  shutdown(): Promise<void> {
    clearTimeout(this.reapTimer);
    clearInterval(this.firewallTimer);
    return this.locked(async () => {
      await this.core.reset();
      this.spares.clear();
    });
  }
}

function checkCidr(text: string): string {
  const c = parseCidr(text);
  if (!c) throw invalid(`invalid CIDR address: ${text}`);
  return formatCidr(c);
}
