import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManager } from '../../runtime/network/index.ts';
import { closeTestHost, containerId, deleteNetns, layerlabNetns, makeNetns, openTestHost, sh, snapshot, tempStateDir, type TestHost } from './network-helpers.ts';

/**
 * The fast paths of container networking keep their guarantees: the firewall, neither rewritten nor checked
 * when its model is unchanged, is still repaired by the periodic check after someone flushed the host's rules;
 * a bridge deleted behind the engine's back is made again; a released container is forgotten at once and
 * its devices are gone when `gone` settles, while its bridge lingers for the next container until a
 * teardown or shutdown removes it; spare netns are refilled as released ones go, and a spare's loopback
 * comes up with its first attach.
 */
describe('container networking: fast paths that still repair and clean up', () => {
  let t: TestHost;
  let host: string;
  let net: NetworkManager;
  const inHost = (args: string[]) => sh('nsenter', [`--net=/run/netns/${host}`, '--', ...args]);
  const jumps = () => inHost(['iptables-nft', '-S', 'INPUT']).split('\n').filter((l) => l.includes('-j LL-')).length;
  const bridges = () => snapshot(host).links.filter((l) => l.startsWith('llbr'));

  async function started(name: string): Promise<string> {
    const id = containerId();
    await net.setupContainer(id, { name, hostname: name });
    await net.attach(id, 'bridge');
    return id;
  }

  beforeAll(async () => {
    t = await openTestHost('repair', { firewallCheckMs: 100 });
    ({ host, net } = t);
  });

  afterAll(() => closeTestHost(t));

  it('restores its rules within the check period after the host INPUT chain and its own chains were flushed', async () => {
    const before = snapshot(host);
    const a = await started('a');
    const rules = snapshot(host).rules;
    expect(jumps()).toBe(1);
    inHost(['iptables-nft', '-F', 'INPUT']);
    inHost(['iptables-nft', '-t', 'nat', '-F']);
    expect(jumps()).toBe(0);
    for (let i = 0; i < 50 && jumps() === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(snapshot(host).rules).toBe(rules);
    // A container started meanwhile changes nothing of that.
    const b = await started('b');
    expect(jumps()).toBe(1);
    await net.teardownContainer(a);
    await net.teardownContainer(b);
    expect(snapshot(host)).toEqual(before);
  });

  it('makes a bridge deleted behind its back again', async () => {
    const a = await started('a');
    const [bridge] = bridges();
    inHost(['ip', 'link', 'delete', bridge!]);
    const b = containerId();
    await net.setupContainer(b, { name: 'b', hostname: 'b' });
    await expect(net.attach(b, 'bridge')).rejects.toThrow();
    const c = await started('c');
    expect(bridges()).toEqual([bridge]);
    for (const id of [a, b, c]) await net.teardownContainer(id);
    expect(bridges()).toEqual([]);
  });

  it('forgets a released container at once, removes its devices next, and keeps its bridge for the next one', async () => {
    const before = snapshot(host);
    const a = await started('a');
    const { gone } = await net.releaseContainer(a);
    expect(net.hasContainer(a)).toBe(false);
    await gone;
    const after = snapshot(host);
    expect(after.links.filter((l) => l.startsWith('llv'))).toEqual([]);
    expect(bridges()).toHaveLength(1);
    expect(after.rules).toContain(`-i ${bridges()[0]} -j DROP`);
    // The next container reuses the lingering bridge; its teardown leaves the netns as it was.
    const b = await started('b');
    await net.teardownContainer(b);
    expect(snapshot(host)).toEqual(before);
  });

  it('refills its spare netns as a released one goes, and brings a spare\'s loopback up at its first attach', async () => {
    const spareHost = makeNetns('spare');
    const stateDir = tempStateDir('spare');
    const m = await NetworkManager.open({ stateDir, hostNetns: spareHost, spareNetns: 2 });
    try {
      const loUp = (ns: string) => /<[^>]*\bUP\b/.test(sh('ip', ['-n', ns, 'link', 'show', 'lo']));
      const bridged = containerId();
      const { netns } = await m.setupContainer(bridged, { name: 'bridged', hostname: 'bridged' });
      const ours = () => layerlabNetns().filter((n) => n.startsWith(netns.slice(0, netns.lastIndexOf('-') + 1)));
      expect(netns).toMatch(/-s[0-9a-f]{12}$/);
      await m.attach(bridged, 'bridge');
      expect(loUp(netns)).toBe(true);
      const lonely = containerId();
      const none = (await m.setupContainer(lonely, { name: 'lonely', hostname: 'lonely' })).netns;
      expect(loUp(none)).toBe(false);
      await m.attach(lonely, 'none');
      expect(loUp(none)).toBe(true);
      expect(ours().sort()).toEqual([netns, none].sort());
      for (const id of [bridged, lonely]) await (await m.releaseContainer(id)).gone;
      const spares = ours();
      expect(spares).toHaveLength(2);
      expect(spares).not.toContain(netns);
      expect(spares).not.toContain(none);
      for (const ns of spares) expect(loUp(ns)).toBe(false);
    } finally {
      await m.shutdown();
      deleteNetns(spareHost);
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });
});
