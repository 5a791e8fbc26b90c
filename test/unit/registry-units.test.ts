import { describe, expect, it } from 'vitest';
import { RegistryError, isRepositoryName } from '../../runtime/registry/distribution.ts';
import { decodeRegistryAuth } from '../../runtime/registry/client/credentials.ts';
import { hostOfServerAddress } from '../../runtime/registry/client/endpoint.ts';
import { parseChallenge } from '../../runtime/registry/client/session.ts';
import { paginate } from '../../runtime/registry/hub/context.ts';
import { HubAuth, allows } from '../../runtime/registry/hub/auth.ts';
import type { HubState } from '../../runtime/registry/hub/hub-state.ts';
import { buildConfig, ConfigError } from '../../server/config.ts';

describe('registry pieces', () => {
  it('grants pull to everyone and push only inside the account namespace', () => {
    const auth = new HubAuth({} as HubState, true);
    const scopes = ['repository:alice/app:push,pull repository:bob/x:push,pull', 'registry:catalog:*'];
    const alice = auth.grant('alice', scopes);
    expect(allows(alice, 'repository', 'alice/app', 'push')).toBe(true);
    expect(allows(alice, 'repository', 'bob/x', 'pull')).toBe(true);
    expect(allows(alice, 'repository', 'bob/x', 'push')).toBe(false);
    expect(allows(alice, 'registry', 'catalog', '*')).toBe(true);
    // A name that merely starts with the account is someone else's.
    expect(allows(auth.grant('alice', ['repository:alicex/app:push']), 'repository', 'alicex/app', 'push')).toBe(false);
    expect(allows(auth.grant(undefined, ['repository:library/busybox:push,pull']), 'repository', 'library/busybox', 'push')).toBe(false);
  });

  it('parses challenges, X-Registry-Auth and server addresses like the docker daemon', () => {
    expect(parseChallenge('Bearer realm="http://h/token",service="hub",scope="repository:a/b:pull"')).toEqual({ scheme: 'bearer', params: { realm: 'http://h/token', service: 'hub', scope: 'repository:a/b:pull' } });
    expect(parseChallenge('Basic realm="x"')?.scheme).toBe('basic');
    const header = Buffer.from(JSON.stringify({ username: 'u', password: 'p?>', serveraddress: 'x', extra: 1 })).toString('base64url');
    expect(decodeRegistryAuth(header)).toEqual({ username: 'u', password: 'p?>', serveraddress: 'x' });
    expect(decodeRegistryAuth('e30=')).toEqual({});
    expect(decodeRegistryAuth('!!not base64 json')).toEqual({});
    expect(hostOfServerAddress('https://index.docker.io/v1/')).toBe('docker.io');
    expect(hostOfServerAddress('http://127.0.0.1:5000/')).toBe('127.0.0.1:5000');
  });

  it('paginates with n/last and a Link header; rejects bad n; checks the name grammar', () => {
    const url = (q: string) => new URL(`http://h/v2/_catalog${q}`);
    expect(paginate(['a', 'b', 'c'], url('?n=2'))).toEqual({ page: ['a', 'b'], link: '</v2/_catalog?last=b&n=2>; rel="next"' });
    expect(paginate(['a', 'b', 'c'], url('?n=2&last=b'))).toEqual({ page: ['c'] });
    expect(paginate(['a'], url('?n=0'))).toEqual({ page: [] });
    expect(() => paginate(['a'], url('?n=-1'))).toThrow(RegistryError);
    for (const ok of ['a', 'library/busybox', 'a.b_c__d--e/f']) expect(isRepositoryName(ok)).toBe(true);
    for (const bad of ['A', 'a/', '/a', 'a//b', 'a/../b', '-a', 'a'.repeat(256)]) expect(isRepositoryName(bad)).toBe(false);
  });

  it('configures the hub port and self-registration', () => {
    expect(buildConfig(['engine'], {})).toMatchObject({ hubPort: 0, hubSelfRegister: true });
    expect(buildConfig(['engine', '--hub-port', '5100', '--hub-no-self-register'], {})).toMatchObject({ hubPort: 5100, hubSelfRegister: false });
    expect(buildConfig(['engine'], { LAYERLAB_HUB_SELF_REGISTER: '0', LAYERLAB_HUB_PORT: '7000' })).toMatchObject({ hubPort: 7000, hubSelfRegister: false });
    expect(() => buildConfig(['engine', '--hub-port', '70000'], {})).toThrow(ConfigError);
  });
});
