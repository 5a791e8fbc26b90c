import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager } from '../../runtime/network/index.ts';
import { containerId, deleteNetns, layerlabNetns, makeNetns, probe, snapshot, startServer, tempStateDir } from './network-helpers.ts';

/**
 * Nothing leaks: container removal and engine restart leave the host netns's links and iptables rules as
 * they were, and no netns mount behind; network definitions persist across restarts. The machine's own
 * netns is compared too, to prove the suites never touch it.
 */
describe('container networking: cleanup and restart', () => {
  let host: string;
  let stateDir: string;
  let machineBefore: ReturnType<typeof snapshot>;

  beforeAll(() => {
    machineBefore = snapshot(undefined);
    host = makeNetns('clean');
    stateDir = tempStateDir('clean');
  });

  afterAll(async () => {
    deleteNetns(host);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  async function populate(net: NetworkManager): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, network] of ['bridge', 'mesh', 'mesh', 'none'].entries()) {
      const id = containerId();
      await net.setupContainer(id, { name: `c${i}`, hostname: `c${i}`, hostsPath: path.join(stateDir, `c${i}.hosts`) });
      await net.attach(id, network);
      if (network === 'mesh' && i === 1) await net.attach(id, 'bridge');
      await net.publishPorts(id, [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortMin: 0, hostPortMax: 0 }]);
      ids.push(id);
    }
    return ids;
  }

  it('leaves no link, rule or netns after every container is torn down', async () => {
    const before = snapshot(host);
    const net = await NetworkManager.open({ stateDir, hostNetns: host });
    await net.createNetwork({ name: 'mesh' });
    const ids = await populate(net);
    const during = snapshot(host);
    expect(during.links.filter((l) => l.startsWith('llbr'))).toHaveLength(2);
    expect(during.links.filter((l) => l.startsWith('llv'))).toHaveLength(4);
    expect(during.rules).toMatch(/DNAT --to-destination 172\.17\.0\.2:80/);
    expect(layerlabNetns(stateDir)).toHaveLength(4);
    for (const id of ids) await net.teardownContainer(id);
    expect(snapshot(host)).toEqual(before);
    expect(layerlabNetns(stateDir)).toEqual([]);
    await net.teardownContainer(ids[0]!);
  });

  it('cleans up after an engine that died with containers attached, and keeps its networks', async () => {
    const before = snapshot(host);
    const first = await NetworkManager.open({ stateDir, hostNetns: host });
    const meshId = (first.inspectNetwork('mesh') as { Id: string }).Id;
    const [id] = await populate(first);
    const settings = first.networkSettings(id!) as { SandboxKey: string; Ports: Record<string, Array<{ HostPort: string }>> };
    const port = Number(settings.Ports['80/tcp']![0]!.HostPort);
    const server = await startServer(settings.SandboxKey, '0.0.0.0', 80, 'alive');
    expect(probe(host, '127.0.0.1', port)).toBe('alive:172.17.0.1');
    await server.stop();
    // A new process opens the same state without the old one ever tearing anything down.
    const second = await NetworkManager.open({ stateDir, hostNetns: host });
    expect(snapshot(host)).toEqual(before);
    expect(layerlabNetns(stateDir)).toEqual([]);
    expect((second.inspectNetwork('mesh') as { Id: string }).Id).toBe(meshId);
    expect(second.hasContainer(id!)).toBe(false);
    const saved = JSON.parse(await fs.readFile(path.join(stateDir, 'networks', 'state.json'), 'utf8')) as { containers: object };
    expect(saved.containers).toEqual({});
    // The restarted engine works: same network, same first address.
    const again = containerId();
    await second.setupContainer(again, { name: 'again', hostname: 'again' });
    expect((await second.attach(again, 'mesh')).IPAddress).toBe('172.18.0.2');
    await second.shutdown();
    expect(snapshot(host)).toEqual(before);
    await second.removeNetwork('mesh');
  });

  it('never touched the machine netns', () => {
    expect(snapshot(undefined)).toEqual(machineBefore);
  });
});
