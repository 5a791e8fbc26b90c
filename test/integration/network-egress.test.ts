import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager } from '../../runtime/network/index.ts';
import { containerId, deleteNetns, makeNetns, probe, sh, startServer, tempStateDir, type Server } from './network-helpers.ts';

/**
 * Egress: off by default; when the engine allows it, containers reach allowed outside addresses through
 * the host netns's uplink (an "outside" netns here), but still never private ranges or other networks.
 */
describe('container networking: egress', () => {
  const hosts: string[] = [];
  const dirs: string[] = [];
  const servers: Server[] = [];
  const managers: NetworkManager[] = [];
  let outside: string;

  /** A host netns whose uplink leads to `outside`: 198.51.100.0/24 directly, 10.99.0.0/24 routed. */
  function uplinked(tag: string, n: number): string {
    const host = makeNetns(tag);
    hosts.push(host);
    const [hostEnd, outEnd] = [`up${n}`, `out${n}`];
    sh('ip', ['-n', host, 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', outEnd, 'netns', outside]);
    sh('ip', ['-n', host, 'addr', 'add', `198.51.10${n}.1/24`, 'dev', hostEnd]);
    sh('ip', ['-n', outside, 'addr', 'add', `198.51.10${n}.2/24`, 'dev', outEnd]);
    sh('ip', ['-n', host, 'link', 'set', hostEnd, 'up']);
    sh('ip', ['-n', outside, 'link', 'set', outEnd, 'up']);
    sh('ip', ['-n', host, 'route', 'add', '10.99.0.0/24', 'via', `198.51.10${n}.2`]);
    return host;
  }

  async function open(host: string, egressAllow?: string[]): Promise<NetworkManager> {
    const stateDir = tempStateDir('egress');
    dirs.push(stateDir);
    const m = await NetworkManager.open({ stateDir, hostNetns: host, egressAllow });
    managers.push(m);
    return m;
  }

  async function container(m: NetworkManager, network: string) {
    const id = containerId();
    const { netnsPath } = await m.setupContainer(id, { name: id.slice(0, 6), hostname: id.slice(0, 12) });
    const ep = await m.attach(id, network);
    return { id, netnsPath, ip: ep.IPAddress as string };
  }

  beforeAll(async () => {
    outside = makeNetns('outside');
    sh('ip', ['-n', outside, 'addr', 'add', '10.99.0.2/24', 'dev', 'lo']);
    servers.push(await startServer(outside, '0.0.0.0', 7000, 'outside'));
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const m of managers) await m.shutdown();
    for (const h of [...hosts, outside]) deleteNetns(h);
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it('has no egress by default', async () => {
    const host = uplinked('noegress', 0);
    // Forwarding on, as on any host that routes (a Docker host, say): only the engine's rules stop egress.
    sh('nsenter', [`--net=/run/netns/${host}`, '--', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // And a way back without NAT, so that only a dropped packet, not a lost reply, can explain a failure.
    sh('ip', ['-n', outside, 'route', 'add', '172.16.0.0/12', 'via', '198.51.100.1']);
    expect(probe(host, '198.51.100.2', 7000)).toBe('outside:198.51.100.1');
    const m = await open(host);
    const c = await container(m, 'bridge');
    expect(probe(c.netnsPath, '198.51.100.2', 7000)).toMatch(/^ERR:/);
  });

  it('reaches allowed addresses when enabled, never private ranges, internal networks or other networks', async () => {
    const host = uplinked('egress', 1);
    const m = await open(host, ['0.0.0.0/0']);
    const c = await container(m, 'bridge');
    expect(probe(c.netnsPath, '198.51.101.2', 7000)).toBe('outside:198.51.101.1');
    expect(probe(host, '10.99.0.2', 7000)).toBe('outside:198.51.101.1');
    expect(probe(c.netnsPath, '10.99.0.2', 7000)).toMatch(/^ERR:/);
    await m.createNetwork({ name: 'sealed', internal: true });
    const sealed = await container(m, 'sealed');
    expect(probe(sealed.netnsPath, '198.51.101.2', 7000)).toMatch(/^ERR:/);
    await m.createNetwork({ name: 'other' });
    const o = await container(m, 'other');
    servers.push(await startServer(o.netnsPath, '0.0.0.0', 7001, 'other'));
    expect(probe(c.netnsPath, o.ip, 7001)).toMatch(/^ERR:/);
  });
});
