import { promises as fs } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile, readJsonIfExists, removeStaleTemps, tempPathFor } from '../util/fsx.ts';

/** One network as `docker network create` (or the engine, for the predefined three) made it. */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge' | 'null' | 'host';
  created: string;
  /** Bridge networks only: the subnet in CIDR form and the gateway (the bridge's own address). */
  subnet?: string;
  gateway?: string;
  /** True when the learner chose the subnet; only then may containers ask for a fixed `--ip`. */
  userSubnet: boolean;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** One container's attachment to one network. Written before any device exists (write-ahead). */
export interface EndpointRecord {
  id: string;
  networkId: string;
  /** Name inside the container (`eth0`, `eth1`, …); empty for the `none` network. */
  ifName: string;
  /** Host-side veth in the engine's host netns; empty for the `none` network. */
  hostIf: string;
  ip: string;
  mac: string;
  aliases: string[];
  /** The `--ip` the learner asked for, shown as IPAMConfig. */
  requestedIp?: string;
}

/** A port published in the host netns, DNAT'ed to the container's primary address. */
export interface PublishedPort {
  proto: 'tcp' | 'udp';
  containerPort: number;
  /** Empty: every local address of the host netns (shown as 0.0.0.0). */
  hostIp: string;
  hostPort: number;
}

/** The network side of one running container. */
export interface ContainerRecord {
  id: string;
  name: string;
  hostname: string;
  /** Name of the container's netns under /run/netns. */
  netns: string;
  hostsPath?: string;
  /** `name ip` pairs from `--add-host`, already validated. */
  extraHosts: Array<[string, string]>;
  endpoints: EndpointRecord[];
  ports: PublishedPort[];
}

export interface NetState {
  version: 1;
  networks: NetworkRecord[];
  containers: Record<string, ContainerRecord>;
}

/**
 * The engine's network state under `<stateDir>/networks/`, in two files, each rewritten atomically (a crash
 * leaves the old or the new content, never a torn one). `state.json` holds the networks and is also made
 * durable (fsync) whenever they change. `containers.json` holds the containers' netns, endpoints and ports,
 * without fsync: it describes kernel state (netns, links, rules) that a power loss takes with it, while
 * after a process crash the page cache still holds it for restart recovery. Devices are created only after
 * the record that names them is written, so that recovery always knows what to remove.
 */
export class StateFile {
  private constructor(
    private readonly dir: string,
    /** The networks as last made durable. */
    private durableNetworks: string,
  ) {}

  static async open(stateDir: string): Promise<{ file: StateFile; state: NetState }> {
    const dir = path.join(stateDir, 'networks');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await removeStaleTemps(dir);
    const saved = await readJsonIfExists<NetState>(path.join(dir, 'state.json'));
    // Unreadable after a power loss is as good as empty: what it described is gone too.
    const containers = await readJsonIfExists<NetState['containers']>(path.join(dir, 'containers.json')).catch(() => undefined);
    const state: NetState = { version: 1, networks: saved?.networks ?? [], containers: containers ?? saved?.containers ?? {} };
    return { file: new StateFile(dir, JSON.stringify(state.networks)), state };
  }

  async save(state: NetState): Promise<void> {
    const networks = JSON.stringify(state.networks);
    if (networks !== this.durableNetworks) {
      await atomicWriteFile(path.join(this.dir, 'state.json'), JSON.stringify({ version: 1, networks: state.networks, containers: {} }, null, 1), 0o600);
      this.durableNetworks = networks;
    }
    const target = path.join(this.dir, 'containers.json');
    const tmp = tempPathFor(target);
    await fs.writeFile(tmp, JSON.stringify(state.containers, null, 1), { mode: 0o600, flag: 'wx' });
    await fs.rename(tmp, target).catch(async (err: unknown) => {
      await fs.rm(tmp, { force: true });
      throw err;
    });
  }
}
