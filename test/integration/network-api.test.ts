import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkManager } from '../../runtime/network/index.ts';
import { closeTestHost, containerId, openTestHost, type TestHost } from './network-helpers.ts';

type Net = Record<string, unknown> & { Name: string; Id: string; Driver: string; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } };

/** The typed API's Docker-facing behaviour: shapes, lookups, validation and dockerd's error texts. */
describe('container networking: network API', () => {
  let t: TestHost;
  let net: NetworkManager;

  beforeAll(async () => {
    t = await openTestHost('api');
    ({ net } = t);
  });

  afterAll(() => closeTestHost(t));

  async function running(name: string) {
    const id = containerId();
    await net.setupContainer(id, { name, hostname: name });
    return id;
  }

  it('lists bridge, host and none like a fresh dockerd', () => {
    const nets = net.listNetworks() as Net[];
    expect(nets.map((n) => [n.Name, n.Driver])).toEqual([['bridge', 'bridge'], ['host', 'host'], ['none', 'null']]);
    const bridge = nets[0]!;
    expect(Object.keys(bridge)).toEqual([
      'Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels',
    ]);
    expect(bridge.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(bridge.IPAM.Config).toEqual([{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
    expect(net.listNetworks({ type: ['custom'] })).toEqual([]);
  });

  it('creates, finds, filters, inspects and removes user networks', async () => {
    const { Id } = await net.createNetwork({ name: 'app-net', labels: { lesson: '3' } });
    await net.createNetwork({ name: 'fixed', subnet: '10.77.0.0/24', gateway: '10.77.0.254' });
    expect((net.inspectNetwork(Id.slice(0, 12)) as Net).Name).toBe('app-net');
    expect((net.inspectNetwork('app-net') as Net).IPAM.Config).toEqual([{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }]);
    expect((net.listNetworks({ label: ['lesson=3'] }) as Net[]).map((n) => n.Name)).toEqual(['app-net']);
    expect((net.listNetworks({ name: ['fix'] }) as Net[]).map((n) => n.Name)).toEqual(['fixed']);
    expect((net.listNetworks({ dangling: true }) as Net[]).map((n) => n.Name)).toEqual(['app-net', 'fixed']);

    const id = await running('pinned');
    const ep = await net.attach(id, 'fixed', { ipv4Address: '10.77.0.9', aliases: ['db'] });
    expect(ep).toMatchObject({ IPAddress: '10.77.0.9', Gateway: '10.77.0.254', IPPrefixLen: 24, MacAddress: '02:42:0a:4d:00:09', IPAMConfig: { IPv4Address: '10.77.0.9' } });
    expect(ep.Aliases).toEqual([id.slice(0, 12), 'db']);
    const inspected = net.inspectNetwork('fixed') as { Containers: Record<string, unknown> };
    expect(inspected.Containers[id]).toEqual({ Name: 'pinned', EndpointID: ep.EndpointID, MacAddress: '02:42:0a:4d:00:09', IPv4Address: '10.77.0.9/24', IPv6Address: '' });
    await expect(net.removeNetwork('fixed')).rejects.toThrow(/^error while removing network: network fixed id [0-9a-f]{64} has active endpoints$/);
    await net.teardownContainer(id);
    await net.removeNetwork('fixed');
    await net.removeNetwork(Id);
    expect(() => net.inspectNetwork('fixed')).toThrow('network fixed not found');
  });

  it('gives dockerd errors for refused creates', async () => {
    await net.createNetwork({ name: 'dup' });
    await expect(net.createNetwork({ name: 'dup' })).rejects.toMatchObject({ code: 'CONFLICT', message: 'network with name dup already exists' });
    await expect(net.createNetwork({ name: 'bridge' })).rejects.toThrow('network with name bridge already exists');
    await expect(net.createNetwork({ name: 'o', driver: 'overlay' })).rejects.toThrow('plugin "overlay" not found');
    await expect(net.createNetwork({ name: 'h', driver: 'host' })).rejects.toThrow('only one instance of "host" network is allowed');
    await expect(net.createNetwork({ name: 'bad/name' })).rejects.toMatchObject({ code: 'INVALID' });
    await expect(net.createNetwork({ name: 'clash', subnet: '172.17.5.0/24' })).rejects.toThrow('Pool overlaps with other one on this address space');
    await expect(net.createNetwork({ name: 'meta', subnet: '169.254.0.0/16' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(net.createNetwork({ name: 'pub', subnet: '8.8.8.0/24' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(net.createNetwork({ name: 'gw', subnet: '10.9.0.0/24', gateway: '10.10.0.1' })).rejects.toThrow('no matching subnet for gateway 10.10.0.1');
    for (const name of ['bridge', 'host', 'none']) {
      await expect(net.removeNetwork(name)).rejects.toThrow(`${name} is a pre-defined network and cannot be removed`);
    }
    await net.removeNetwork('dup');
    expect(net.listNetworks().map((n) => n.Name)).toEqual(['bridge', 'host', 'none']);
  });

  it('refuses host networking and other invalid connects', async () => {
    expect(() => net.resolveNetwork('host')).toThrow(/host networking is not allowed/);
    expect(() => net.resolveNetwork('nope')).toThrow('network nope not found');
    const id = await running('c');
    await expect(net.attach(id, 'host')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(net.attach(id, 'bridge', { aliases: ['x'] })).rejects.toThrow('network-scoped alias is supported only for containers in user defined networks');
    await expect(net.attach(id, 'bridge', { ipv4Address: '172.17.0.50' })).rejects.toThrow('user specified IP address is supported only');
    await net.attach(id, 'bridge');
    await expect(net.attach(id, 'bridge')).rejects.toThrow('endpoint with name c already exists in network bridge');
    await expect(net.attach(id, 'none')).rejects.toThrow('private (none) mode');
    await net.createNetwork({ name: 'side' });
    await expect(net.detach(id, 'side')).rejects.toThrow(`container ${id} is not connected to network side`);
    await expect(net.attach(containerId(), 'bridge')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(net.setupContainer('../../etc', { name: 'x', hostname: 'x' })).rejects.toMatchObject({ code: 'INVALID' });
    await expect(net.setupContainer(containerId(), { name: 'x', hostname: 'x', extraHosts: ['evil\nhost:1.2.3.4'] })).rejects.toMatchObject({ code: 'INVALID' });
    // A failed attach left nothing: the container has exactly its one endpoint.
    const settings = net.networkSettings(id) as { Networks: Record<string, unknown>; IPAddress: string };
    expect(Object.keys(settings.Networks)).toEqual(['bridge']);
    expect(settings.IPAddress).toBe('172.17.0.2');
    await net.teardownContainer(id);
    await net.removeNetwork('side');
  });

  it('describes a stopped container with its configured networks and no addresses', () => {
    const settings = net.networkSettings(containerId(), { networks: ['bridge'], exposedPorts: ['80/tcp'] }) as Record<string, unknown>;
    expect(settings.Ports).toEqual({ '80/tcp': null });
    expect(settings.SandboxKey).toBe('');
    expect((settings.Networks as Record<string, { IPAddress: string; NetworkID: string }>).bridge).toMatchObject({ IPAddress: '', NetworkID: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
