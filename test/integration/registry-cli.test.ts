import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_28, startEngine, type TestEngine } from '../helpers/engine.ts';
import { freePort, startRealRegistry, type RealRegistry } from './registry-peers.ts';

/** Pull, push, login, search through the real docker CLI against a real engine and its hub. */
describe('registry commands through the docker CLI', () => {
  let engine: TestEngine;
  let hub: string;
  let registry: RealRegistry | undefined;
  let guarded: RealRegistry | undefined;
  const docker = (args: string[], input?: string) => engine.docker(args, input === undefined ? {} : { input });
  const login = (user: string, password: string) => docker(['login', '-u', user, '--password-stdin'], password);
  const hubTags = async (repo: string) => {
    const t = (await (await fetch(`http://${hub}/token?scope=repository:${repo}:pull`)).json()) as { token: string };
    return fetch(`http://${hub}/v2/${repo}/tags/list`, { headers: { Authorization: `Bearer ${t.token}` } });
  };

  beforeAll(async () => {
    const port = await freePort();
    hub = `127.0.0.1:${port}`;
    engine = await startEngine('registry-cli', { extraArgs: ['--hub-port', String(port)] });
    registry = await startRealRegistry();
    if (!registry) console.warn('registry-cli: the localhost:PORT flow is skipped: Debian docker-registry is not installed (apt-get install docker-registry)');
    guarded = await startRealRegistry({ basicAuth: { user: 'reguser', password: 'regpass' } });
    if (!guarded) console.warn('registry-cli: the basic-auth flow is skipped: needs docker-registry and apache2-utils (htpasswd)');
  });

  afterAll(async () => {
    await engine?.stop();
    await registry?.stop();
    await guarded?.stop();
  });

  it('pulls from the hub with moby messages, records RepoDigests, and is up to date the second time', () => {
    expect(docker(['rmi', 'busybox']).code).toBe(0);
    const first = docker(['pull', 'busybox']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Using default tag: latest\nlatest: Pulling from library\/busybox\n([0-9a-f]{12}): Pulling fs layer\n(\1: (Verifying Checksum|Download complete)\n)+\1: Pull complete\nDigest: (sha256:[0-9a-f]{64})\nStatus: Downloaded newer image for busybox:latest\ndocker.io\/library\/busybox:latest\n$/);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(first.stdout)![1];
    expect(docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'busybox']).stdout.trim()).toBe(`["busybox@${digest}"]`);
    const again = docker(['pull', 'busybox:latest']);
    expect(again.stdout).toBe(`latest: Pulling from library/busybox\nDigest: ${digest}\nStatus: Image is up to date for busybox:latest\ndocker.io/library/busybox:latest\n`);
    const byDigest = docker(['pull', `busybox@${digest}`]);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(byDigest.stdout).toContain(`Status: Image is up to date for busybox@${digest}`);
  });

  it('a missing tag and a missing repository give clear errors', () => {
    const tag = docker(['pull', 'busybox:nosuch']);
    expect([tag.code, tag.stderr]).toEqual([1, 'Error response from daemon: manifest for busybox:nosuch not found: manifest unknown: manifest unknown\n']);
    const repo = docker(['pull', 'nosuchimage']);
    expect(repo.code).toBe(1);
    expect(repo.stderr).toMatch(/pull access denied for nosuchimage: layerlab works offline and nosuchimage is not in its image hub\. Available images: .*busybox.*debian/);
  });

  it('login registers a new name, a wrong password is refused, push mounts shared layers and re-push finds them', async () => {
    const ok = login('alice', 'alice-secret');
    expect([ok.code, ok.stdout.trim()]).toEqual([0, 'Login Succeeded']);
    const wrong = login('alice', 'wrong');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(`Error response from daemon: Get "http://${hub}/v2/": unauthorized: incorrect username or password\n`);
    expect(login('alice', 'alice-secret').code).toBe(0);
    expect(docker(['tag', 'busybox', 'alice/box:v1']).code).toBe(0);
    const push = docker(['push', 'alice/box:v1']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toMatch(/^The push refers to repository \[docker\.io\/alice\/box\]\n([0-9a-f]{12}): Preparing\n\1: Mounted from library\/busybox\nv1: digest: (sha256:[0-9a-f]{64}) size: \d+\n$/);
    const digest = /digest: (sha256:\S+)/.exec(push.stdout)![1];
    const repush = docker(['push', 'alice/box:v1']);
    expect(repush.stdout).toMatch(/: Layer already exists\nv1: digest: sha256:/);
    expect(await (await hubTags('alice/box')).json()).toEqual({ name: 'alice/box', tags: ['v1'] });
    expect(docker(['rmi', 'alice/box:v1']).code).toBe(0);
    const pull = docker(['pull', 'alice/box:v1']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`Digest: ${digest}`);
    expect(docker(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', 'alice/box']).stdout).toBe(`alice/box v1 ${digest}\n`);
  });

  it('pushing into another user namespace is denied and leaves nothing; logged out, pushing is denied too', async () => {
    expect(login('alice', 'alice-secret').code).toBe(0);
    expect(docker(['tag', 'busybox', 'bob/box:v1']).code).toBe(0);
    const denied = docker(['push', 'bob/box:v1']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('denied: requested access to the resource is denied\n');
    expect((await hubTags('bob/box')).status).toBe(404);
    expect(docker(['logout']).code).toBe(0);
    expect(docker(['tag', 'busybox', 'alice/box:v2']).code).toBe(0);
    const anon = docker(['push', 'alice/box:v2']);
    expect([anon.code, anon.stderr]).toEqual([1, 'denied: requested access to the resource is denied\n']);
    expect(await (await hubTags('alice/box')).json()).toEqual({ name: 'alice/box', tags: ['v1'] });
    expect(docker(['rmi', 'alice/box:v2', 'bob/box:v1']).code).toBe(0);
  });

  it('search finds hub repositories by name and description, with --limit and --filter', () => {
    const all = docker(['search', 'debian']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\s+AUTOMATED$/);
    expect(all.stdout).toMatch(/\ndebian\s+Debian 12.*\[OK\]/);
    expect(docker(['search', '--limit', '1', '--format', '{{.Name}}', 'b']).stdout.trim().split('\n')).toHaveLength(1);
    expect(docker(['search', '--filter', 'is-official=false', '--format', '{{.Name}}', 'box']).stdout).toBe('alice/box\n');
    expect(docker(['search', '--filter', 'stars=1', '--format', '{{.Name}}', 'box']).stdout).toBe('');
    if (DOCKER_28) expect(engine.docker(['search', '--format', '{{.Name}} {{.IsOfficial}}', 'busybox'], { cli: DOCKER_28 }).stdout).toContain('busybox [OK]');
  });

  it('pull -a fetches every tag of a repository; push --all-tags pushes every tag; a missing tag is named like moby', () => {
    expect(login('alice', 'alice-secret').code).toBe(0);
    expect(docker(['tag', 'hello-world', 'alice/box:hello']).code).toBe(0);
    expect(docker(['push', 'alice/box:hello']).code).toBe(0);
    docker(['rmi', 'alice/box:hello', 'alice/box:v1']);
    const all = docker(['pull', '-a', 'alice/box']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('hello: Pulling from alice/box');
    expect(all.stdout).toContain('v1: Pulling from alice/box');
    expect(docker(['images', '--format', '{{.Tag}}', 'alice/box']).stdout.split('\n').sort().join(' ').trim()).toBe('hello v1');
    const pushAll = docker(['push', '--all-tags', 'alice/box']);
    expect(pushAll.code, pushAll.stderr).toBe(0);
    expect(pushAll.stdout).toMatch(/hello: digest: sha256:[0-9a-f]{64} size: \d+\n[\s\S]*v1: digest: sha256:/);
    const missing = docker(['push', 'alice/box:nosuch']);
    expect([missing.code, missing.stderr]).toEqual([1, 'An image does not exist locally with the tag: alice/box\n']);
  });

  it('localhost:PORT and 127.0.0.1:PORT reach a real registry (distribution 2.8.2) on the engine host', (ctx) => {
    if (!registry) return ctx.skip();
    const port = registry.address.split(':')[1];
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const name = `${host}/learner/box`;
      expect(docker(['tag', 'busybox', `${name}:v1`]).code).toBe(0);
      const push = docker(['push', `${name}:v1`]);
      expect(push.code, push.stderr).toBe(0);
      expect(push.stdout).toMatch(new RegExp(`^The push refers to repository \\[${name.replace(/\./g, '\\.')}\\]\\n([0-9a-f]{12}): Preparing\\n\\1: (Pushed|Layer already exists)\\nv1: digest: sha256:[0-9a-f]{64} size: \\d+\\n$`));
      expect(docker(['rmi', `${name}:v1`]).code).toBe(0);
      const pull = docker(['pull', `${name}:v1`]);
      expect(pull.code, pull.stderr).toBe(0);
      expect(pull.stdout).toContain(`Status: Downloaded newer image for ${name}:v1`);
      const missing = docker(['pull', `${name}:nothere`]);
      expect(missing.stderr).toBe(`Error response from daemon: manifest for ${name}:nothere not found: manifest unknown: manifest unknown\n`);
    }
  });

  it('a registry with Basic auth (htpasswd): push needs a login, a wrong password is refused, then push and pull work', (ctx) => {
    if (!guarded) return ctx.skip();
    const name = `${guarded.address}/team/box:v1`;
    expect(docker(['tag', 'busybox', name]).code).toBe(0);
    const anonymous = docker(['push', name]);
    expect([anonymous.code, anonymous.stderr]).toEqual([1, 'no basic auth credentials\n']);
    const wrong = docker(['login', '-u', 'reguser', '--password-stdin', guarded.address], 'nope');
    expect(wrong.stderr).toBe(`Error response from daemon: login attempt to http://${guarded.address}/v2/ failed with status: 401 Unauthorized\n`);
    const ok = docker(['login', '-u', 'reguser', '--password-stdin', guarded.address], 'regpass');
    expect([ok.code, ok.stdout.trim()]).toEqual([0, 'Login Succeeded']);
    const push = docker(['push', name]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toMatch(/: Pushed\nv1: digest: sha256:/);
    expect(docker(['rmi', name]).code).toBe(0);
    const pull = docker(['pull', name]);
    expect(pull.code, pull.stderr).toBe(0);
  });

  it('docker run pulls a missing image from the hub, then runs it', () => {
    // Every name of the image goes, so its layers go too and the pull has to fetch them.
    docker(['rmi', '-f', 'hello-world', 'alice/box:hello']);
    const run = docker(['run', '--rm', 'hello-world']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("Unable to find image 'hello-world:latest' locally");
    expect(run.stderr).toMatch(/latest: Pulling from library\/hello-world\n[0-9a-f]{12}: Pulling fs layer\n/);
    expect(run.stderr).toContain('Status: Downloaded newer image for hello-world:latest');
    expect(run.stdout).toContain('Hello');
  });

  it.skipIf(!DOCKER_28)('the Docker 28 CLI logs in, pushes and pulls through the same endpoints', () => {
    const d28 = (args: string[], input?: string) => engine.docker(args, { cli: DOCKER_28!, ...(input === undefined ? {} : { input }) });
    expect(d28(['login', '-u', 'carol', '--password-stdin'], 'carol-pw').stdout).toContain('Login Succeeded');
    expect(d28(['tag', 'busybox', 'carol/box:28']).code).toBe(0);
    const push = d28(['push', 'carol/box:28']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toMatch(/28: digest: sha256:[0-9a-f]{64} size: \d+/);
    expect(d28(['rmi', 'carol/box:28']).code).toBe(0);
    const pull = d28(['pull', 'carol/box:28']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('docker.io/carol/box:28');
  });
});
