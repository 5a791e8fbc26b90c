import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager } from '../../runtime/network/index.ts';
import { closeTestHost, containerId, openTestHost, probe, probeByName, sh, snapshot, startServer, type Server, type TestHost } from './network-helpers.ts';

/**
 * Real netns, veths, bridges and iptables inside a test-created host netns: reachability on one network,
 * isolation between networks, name resolution through hosts files, `--network none`, and no way from a
 * container to the host netns's own services.
 */
describe('container networking: reachability and isolation', () => {
  let t: TestHost;
  let host: string;
  let net: NetworkManager;
  let servers: Server[];

  beforeAll(async () => {
    t = await openTestHost('conn');
    ({ host, net, servers } = t);
  });

  afterAll(() => closeTestHost(t));

  async function container(name: string, network?: string, aliases?: string[]) {
    const id = containerId();
    const hostsPath = path.join(t.stateDir, `${name}.hosts`);
    const { netnsPath } = await net.setupContainer(id, { name, hostname: id.slice(0, 12), hostsPath });
    const ep = network ? await net.attach(id, network, { aliases }) : undefined;
    return { id, netnsPath, hostsPath, ip: ep?.IPAddress as string, gateway: ep?.Gateway as string };
  }

  async function serve(ns: string, port: number, reply: string) {
    servers.push(await startServer(ns, '0.0.0.0', port, reply));
  }

  it('connects two containers on the default bridge network by IP', async () => {
    const a = await container('a', 'bridge');
    const b = await container('b', 'bridge');
    expect(a.ip).toBe('172.17.0.2');
    expect(b.ip).toBe('172.17.0.3');
    expect(a.gateway).toBe('172.17.0.1');
    await serve(b.netnsPath, 8000, 'b');
    expect(probe(a.netnsPath, b.ip, 8000)).toBe(`b:${a.ip}`);
    // Its loopback is up too (a container's netns is made bare; its first attach brings lo up).
    expect(probe(b.netnsPath, '127.0.0.1', 8000)).toBe('b:127.0.0.1');
    // The bridge ports carry no IPv6 address: nothing on the host is reachable through them.
    const ports = snapshot(host).links.filter((l) => l.startsWith('llv'));
    expect(ports).toHaveLength(2);
    for (const l of ports) expect(sh('ip', ['-n', host, '-6', 'addr', 'show', 'dev', l]).trim()).toBe('');
    // The container end carries Docker's IP-derived MAC and the default route via the gateway.
    expect(sh('nsenter', [`--net=${a.netnsPath}`, '--', 'ip', '-o', 'link', 'show', 'eth0'])).toContain('02:42:ac:11:00:02');
    expect(sh('nsenter', [`--net=${a.netnsPath}`, '--', 'ip', 'route'])).toContain('default via 172.17.0.1 dev eth0');
  });

  it('isolates user networks from each other until a container joins both', async () => {
    await net.createNetwork({ name: 'front' });
    await net.createNetwork({ name: 'back' });
    const f = await container('f', 'front');
    const k = await container('k', 'back');
    const d = await container('d', 'bridge');
    await serve(k.netnsPath, 8001, 'k');
    expect(probe(f.netnsPath, k.ip, 8001)).toMatch(/^ERR:/);
    expect(probe(d.netnsPath, k.ip, 8001)).toMatch(/^ERR:/);
    const joined = await net.attach(f.id, 'back');
    expect(probe(f.netnsPath, k.ip, 8001)).toBe(`k:${joined.IPAddress as string}`);
    await net.detach(f.id, 'back');
    expect(probe(f.netnsPath, k.ip, 8001)).toMatch(/^ERR:/);
  });

  it('resolves names on a user network through each container hosts file, updated on attach and detach', async () => {
    await net.createNetwork({ name: 'names' });
    const web = await container('web', 'names', ['www']);
    const cli = await container('cli', 'names');
    const other = await container('other', 'bridge');
    const hosts = await fs.readFile(cli.hostsPath, 'utf8');
    expect(hosts).toMatch(new RegExp(`^${web.ip.replaceAll('.', '\\.')}\\tweb www ${web.id.slice(0, 12)}$`, 'm'));
    expect(hosts).toMatch(new RegExp(`^${cli.ip.replaceAll('.', '\\.')}\\t${cli.id.slice(0, 12)}$`, 'm'));
    expect(await fs.readFile(web.hostsPath, 'utf8')).toContain(`\tcli ${cli.id.slice(0, 12)}`);
    // The default bridge network has no name resolution, as in Docker.
    expect(await fs.readFile(other.hostsPath, 'utf8')).not.toContain('web');
    // A process in the container resolves the name through libc and connects.
    await serve(web.netnsPath, 8002, 'web');
    expect(probeByName(cli.netnsPath, cli.hostsPath, 'web', 8002)).toBe(`web:${cli.ip}`);
    expect(probeByName(cli.netnsPath, cli.hostsPath, 'www', 8002)).toBe(`web:${cli.ip}`);
    expect(probeByName(other.netnsPath, other.hostsPath, 'web', 8002)).toMatch(/^ERR:/);
    await net.detach(web.id, 'names');
    expect(await fs.readFile(cli.hostsPath, 'utf8')).not.toContain('web');
    await net.attach(web.id, 'names', { aliases: ['www'] });
    expect(await fs.readFile(cli.hostsPath, 'utf8')).toContain('\tweb www');
    await net.teardownContainer(web.id);
    expect(await fs.readFile(cli.hostsPath, 'utf8')).not.toContain('web');
  });

  it('gives a --network none container only its loopback', async () => {
    const n = await container('lonely', 'none');
    const links = sh('nsenter', [`--net=${n.netnsPath}`, '--', 'ip', '-o', 'link', 'show']);
    expect(links.trim().split('\n').map((l) => l.split(':')[1]!.trim())).toEqual(['lo']);
    await serve(n.netnsPath, 8003, 'self');
    expect(probe(n.netnsPath, '127.0.0.1', 8003)).toBe('self:127.0.0.1');
    const settings = net.networkSettings(n.id) as { Networks: Record<string, { IPAddress: string; NetworkID: string }> };
    expect(Object.keys(settings.Networks)).toEqual(['none']);
    expect(settings.Networks.none!.IPAddress).toBe('');
    await expect(net.attach(n.id, 'bridge')).rejects.toThrow('private (none) mode');
  });

  it('keeps containers away from the host netns: gateway, other local addresses, loopback', async () => {
    const c = await container('prober', 'bridge');
    const u = await container('prober2', 'front');
    // A service in the host netns on every address, and one on loopback only.
    servers.push(await startServer(host, '0.0.0.0', 9100, 'host-any'));
    servers.push(await startServer(host, '127.0.0.1', 9101, 'host-lo'));
    expect(probe(host, '127.0.0.1', 9100)).toBe('host-any:127.0.0.1');
    expect(probe(host, c.gateway, 9100)).toMatch(/^host-any:/);
    expect(probe(c.netnsPath, c.gateway, 9100)).toMatch(/^ERR:/);
    expect(probe(c.netnsPath, u.gateway, 9100)).toMatch(/^ERR:/);
    expect(probe(u.netnsPath, c.gateway, 9100)).toMatch(/^ERR:/);
    // 127.0.0.1 in a container is its own loopback, never the host's.
    expect(probe(c.netnsPath, '127.0.0.1', 9101)).toBe('ERR:ECONNREFUSED');
    // No IPv6 on bridges or their ports: no link-local address for a container to reach the host through.
    expect(sh('ip', ['-n', host, '-6', '-o', 'addr', 'show']).trim().split('\n').map((l) => l.split(/\s+/)[1])).toEqual(['lo']);
    // The host netns can still reach containers directly (replies are let back in).
    await serve(c.netnsPath, 8004, 'c');
    expect(probe(host, c.ip, 8004)).toBe(`c:${c.gateway}`);
  });
});
