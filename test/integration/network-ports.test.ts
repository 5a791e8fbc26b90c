import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager, portRequestsFromConfig } from '../../runtime/network/index.ts';
import { closeTestHost, containerId, openTestHost, probe, startServer, type Server, type TestHost } from './network-helpers.ts';

/** `-p HOST:CONTAINER`, `-p CONTAINER`, `-P`: published by DNAT in a test-created host netns. */
describe('container networking: published ports', () => {
  let t: TestHost;
  let host: string;
  let net: NetworkManager;
  let servers: Server[];

  beforeAll(async () => {
    t = await openTestHost('ports');
    ({ host, net, servers } = t);
  });

  afterAll(() => closeTestHost(t));

  async function webContainer(name: string, network = 'bridge') {
    const id = containerId();
    const { netnsPath } = await net.setupContainer(id, { name, hostname: name });
    const ep = await net.attach(id, network);
    servers.push(await startServer(netnsPath, '0.0.0.0', 80, name));
    servers.push(await startServer(netnsPath, '0.0.0.0', 53, name, 'udp'));
    return { id, netnsPath, ip: ep.IPAddress as string, gateway: ep.Gateway as string };
  }

  it('publishes HOST:CONTAINER so that localhost:HOST in the host netns reaches the container', async () => {
    const web = await webContainer('web');
    const bound = await net.publishPorts(web.id, portRequestsFromConfig({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, {}, false));
    expect(bound).toEqual([{ proto: 'tcp', containerPort: 80, hostIp: '', hostPort: 8080 }]);
    // The container sees the gateway as the peer: loopback sources are masqueraded onto the bridge.
    expect(probe(host, '127.0.0.1', 8080)).toBe(`web:${web.gateway}`);
    expect(probe(host, web.gateway, 8080)).toBe(`web:${web.gateway}`);
    expect((net.networkSettings(web.id, { exposedPorts: ['80/tcp', '443/tcp'] }) as { Ports: unknown }).Ports).toEqual({
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      '443/tcp': null,
    });
    // Published ports are for the host netns only: a container cannot use them to reach the host.
    const other = await webContainer('other');
    expect(probe(other.netnsPath, other.gateway, 8080)).toMatch(/^ERR:/);
  });

  it('picks free host ports for -p CONTAINER and -P, including UDP', async () => {
    const app = await webContainer('app');
    const bound = await net.publishPorts(app.id, portRequestsFromConfig({ '80/tcp': [{ HostIp: '', HostPort: '' }] }, { '80/tcp': {}, '53/udp': {} }, true));
    expect(bound.map((b) => `${b.containerPort}/${b.proto}`)).toEqual(['80/tcp', '53/udp']);
    const tcp = bound[0]!.hostPort;
    expect(tcp).toBeGreaterThanOrEqual(49153);
    expect(probe(host, '127.0.0.1', tcp)).toBe(`app:${app.gateway}`);
    expect(probe(host, '127.0.0.1', bound[1]!.hostPort, 'udp')).toBe('app:ping');
  });

  it('binds to one host address when asked (-p 127.0.0.1:8081:80)', async () => {
    const lo = await webContainer('lo');
    await net.publishPorts(lo.id, portRequestsFromConfig({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }] }, {}, false));
    expect(probe(host, '127.0.0.1', 8081)).toBe(`lo:${lo.gateway}`);
    expect(probe(host, lo.gateway, 8081)).toBe('ERR:ECONNREFUSED');
    expect((net.networkSettings(lo.id) as { Ports: unknown }).Ports).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }] });
  });

  it('refuses a port another container publishes or a host process listens on', async () => {
    const dup = await webContainer('dup');
    await expect(net.publishPorts(dup.id, [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortMin: 8080, hostPortMax: 8080 }])).rejects.toThrow(
      /^driver failed programming external connectivity on endpoint dup \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:8080 failed: port is already allocated$/,
    );
    servers.push(await startServer(host, '127.0.0.1', 9200, 'hostsvc'));
    await expect(net.publishPorts(dup.id, [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortMin: 9200, hostPortMax: 9200 }])).rejects.toThrow(
      'Error starting userland proxy: listen tcp4 0.0.0.0:9200: bind: address already in use',
    );
    expect(probe(host, '127.0.0.1', 9200)).toBe('hostsvc:127.0.0.1');
    // A host port range takes the first free port in it.
    const [b] = await net.publishPorts(dup.id, [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortMin: 8080, hostPortMax: 8090 }]);
    expect(b!.hostPort).toBe(8082);
    expect(probe(host, '127.0.0.1', 8082)).toBe(`dup:${dup.gateway}`);
  });

  it('rejects malformed port specifications from the create request', () => {
    expect(() => portRequestsFromConfig({ '80/tcp; rm': [] }, {}, false)).toThrow('invalid port specification');
    expect(() => portRequestsFromConfig({ '70000/tcp': [] }, {}, false)).toThrow('invalid port specification');
    expect(() => portRequestsFromConfig({ '80/tcp': [{ HostPort: '-1' }] }, {}, false)).toThrow('invalid hostPort');
    expect(() => portRequestsFromConfig({ '80/tcp': [{ HostIp: '1.2.3.4 -j ACCEPT', HostPort: '80' }] }, {}, false)).toThrow('invalid IP address');
    expect(() => portRequestsFromConfig({ '80/sctp': [] }, {}, false)).toThrow('sctp');
  });

  it('unpublishes on request and on teardown', async () => {
    const gone = await webContainer('gone');
    const spec = { proto: 'tcp' as const, containerPort: 80, hostIp: '', hostPortMin: 8095, hostPortMax: 8095 };
    await net.publishPorts(gone.id, [spec]);
    expect(probe(host, '127.0.0.1', 8095)).toBe(`gone:${gone.gateway}`);
    await net.unpublishPorts(gone.id);
    expect(probe(host, '127.0.0.1', 8095)).toBe('ERR:ECONNREFUSED');
    expect((net.networkSettings(gone.id) as { Ports: unknown }).Ports).toEqual({});
    await net.publishPorts(gone.id, [spec]);
    expect(probe(host, '127.0.0.1', 8095)).toBe(`gone:${gone.gateway}`);
    await net.teardownContainer(gone.id);
    expect(probe(host, '127.0.0.1', 8095)).toBe('ERR:ECONNREFUSED');
  });
});
