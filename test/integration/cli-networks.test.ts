import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../helpers/engine.ts';

/** `docker network *` through Debian's docker 20.10 CLI, and name resolution on a user network. */
describe('docker network through the CLI', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine('cli-networks');
  });

  afterAll(async () => {
    engine?.docker(['rm', '-f', 'neta', 'netb', 'netc']);
    await engine?.stop();
  });

  function ok(args: string[]): string {
    const r = engine.docker(args);
    expect(r.stderr, `docker ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  it('lists the predefined networks like a fresh dockerd', () => {
    const lines = ok(['network', 'ls']).trim().split('\n');
    expect(lines[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(1).join(' '))).toEqual(['bridge bridge local', 'host host local', 'none null local']);
  });

  it('creates, inspects, filters and removes a user network', () => {
    const id = ok(['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'lesson=1', 'mynet']).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const [net] = JSON.parse(ok(['network', 'inspect', 'mynet'])) as Array<{ Name: string; Id: string; Driver: string; IPAM: { Config: unknown[] }; Labels: Record<string, string> }>;
    expect(net).toMatchObject({ Name: 'mynet', Id: id, Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }] }, Labels: { lesson: '1' } });
    expect(ok(['network', 'ls', '-q', '--filter', 'label=lesson=1'])).toBe(`${id.slice(0, 12)}\n`);
    const dup = engine.docker(['network', 'create', 'mynet']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('network with name mynet already exists');
    expect(ok(['network', 'rm', 'mynet'])).toBe('mynet\n');
    const gone = engine.docker(['network', 'inspect', 'mynet']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No such network: mynet');
    const predefined = engine.docker(['network', 'rm', 'bridge']);
    expect(predefined.stderr).toContain('bridge is a pre-defined network and cannot be removed');
  });

  it('resolves containers by name on a user network, and connects a running container to it', () => {
    ok(['network', 'create', 'appnet']);
    ok(['run', '-d', '--name', 'neta', '--network', 'appnet', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'netb', '--network', 'appnet', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    expect(ok(['exec', 'neta', 'ping', '-c1', '-W2', 'netb'])).toContain('1 packets received');
    expect(ok(['exec', 'neta', 'wget', '-qO-', 'http://netb:8080/hostname']).trim()).toMatch(/^[0-9a-f]{12}$/);
    ok(['run', '-d', '--name', 'netc', 'busybox', 'sleep', '600']);
    // Not on appnet yet: the name is unknown (a DNS lookup of it would only time out, so look where names live).
    expect(ok(['exec', 'netc', 'cat', '/etc/hosts'])).not.toMatch(/\bnetb\b/);
    ok(['network', 'connect', 'appnet', 'netc']);
    expect(ok(['exec', 'netc', 'ping', '-c1', '-W2', 'netb'])).toContain('1 packets received');
    const [net] = JSON.parse(ok(['network', 'inspect', 'appnet'])) as Array<{ Containers: Record<string, { Name: string }> }>;
    expect(Object.values(net!.Containers).map((c) => c.Name).sort()).toEqual(['neta', 'netb', 'netc']);
    const busy = engine.docker(['network', 'rm', 'appnet']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('has active endpoints');
    const ipB = ok(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'netb']).trim();
    ok(['network', 'disconnect', 'appnet', 'netc']);
    expect(ok(['exec', 'netc', 'cat', '/etc/hosts'])).not.toMatch(/\bnetb\b/);
    expect(engine.docker(['exec', 'netc', 'ping', '-c1', '-W1', ipB]).code).not.toBe(0);
    ok(['stop', '-t', '0', 'netc']);
    const stopped = engine.docker(['network', 'connect', 'appnet', 'netc']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('container netc is not running');
    ok(['rm', '-f', 'neta', 'netb', 'netc']);
    ok(['network', 'create', 'unused']);
    expect(ok(['network', 'prune', '-f'])).toMatch(/Deleted Networks:\n(appnet\nunused|unused\nappnet)\n/);
  });
});
