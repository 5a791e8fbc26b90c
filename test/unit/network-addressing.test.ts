import { describe, expect, it } from 'vitest';
import { renderHosts, parseExtraHosts } from '../../runtime/network/hosts-file.ts';
import { allocateIp, checkUserSubnet, defaultPools, pickSubnet } from '../../runtime/network/ipam.ts';
import { formatCidr, macForIp, parseCidr, parseIp } from '../../runtime/network/ipv4.ts';
import { portRequestsFromConfig, portsMap } from '../../runtime/network/ports.ts';

describe('network addressing', () => {
  it('parses addresses strictly', () => {
    expect(parseIp('172.17.0.2')).toBe(0xac110002);
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.4 ', '-1.2.3.4']) expect(parseIp(bad)).toBeUndefined();
    expect(formatCidr(parseCidr('10.1.2.3/8')!)).toBe('10.0.0.0/8');
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(macForIp(parseIp('172.18.0.10')!)).toBe('02:42:ac:12:00:0a');
  });

  it('picks pools and addresses like dockerd', () => {
    const pools = defaultPools();
    expect(formatCidr(pickSubnet(pools, []))).toBe('172.17.0.0/16');
    expect(formatCidr(pickSubnet(pools, [parseCidr('172.17.0.0/16')!, parseCidr('172.18.5.0/24')!]))).toBe('172.19.0.0/16');
    expect(allocateIp('172.17.0.0/16', '172.17.0.1', new Set(['172.17.0.2']))).toBe('172.17.0.3');
    expect(() => allocateIp('10.0.0.0/30', '10.0.0.1', new Set(['10.0.0.2']))).toThrow('no available IPv4 addresses');
    expect(checkUserSubnet('10.5.0.0/24', undefined, []).gateway).toBe(parseIp('10.5.0.1'));
    expect(() => checkUserSubnet('127.0.0.0/8', undefined, [])).toThrow('not allowed');
    expect(() => checkUserSubnet('10.5.0.0/24', '10.5.0.255', [])).toThrow('no matching subnet for gateway');
  });

  it('writes hosts files that a hostile name cannot break', () => {
    const text = renderHosts([{ ip: '172.18.0.2', names: ['abc'] }], parseExtraHosts(['db:10.0.0.9']), [
      { ip: '172.18.0.3', names: ['web', 'bad\nline', 'x y', '#c'] },
    ]);
    expect(text.split('\n')).toEqual([
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      '10.0.0.9\tdb',
      '172.18.0.2\tabc',
      '# containers on the same user-defined networks (kept up to date by layerlab)',
      '172.18.0.3\tweb',
      '',
    ]);
    expect(() => parseExtraHosts(['a b:1.2.3.4'])).toThrow('--add-host');
    expect(() => parseExtraHosts(['a:1.2.3.4\n5.6.7.8 evil'])).toThrow('invalid IP address');
  });

  it('maps port bindings both ways', () => {
    const reqs = portRequestsFromConfig({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8000-8010' }] }, { '80/tcp': {}, '53/udp': {} }, true);
    expect(reqs).toEqual([
      { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortMin: 8000, hostPortMax: 8010 },
      { proto: 'udp', containerPort: 53, hostIp: '', hostPortMin: 0, hostPortMax: 0 },
    ]);
    expect(portsMap(['80/tcp', '443'], [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPort: 8080 }])).toEqual({
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      '443/tcp': null,
    });
  });
});
