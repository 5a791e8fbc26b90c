import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialInNetns } from '../../runtime/index.ts';
import { deleteNetns, makeNetns, startServer, type Server } from './network-helpers.ts';
import { freePort } from './registry-peers.ts';
import { openSandbox, until, type TestSandbox } from './sandbox-helpers.ts';

/** GET `path` from `port` inside `netns`, through dialInNetns. */
function getInNetns(netns: string, port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, createConnection: () => dialInNetns(netns, port) as never }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dialInNetns', () => {
  let ns: string;
  let server: Server;
  beforeAll(async () => {
    ns = makeNetns('dial');
    server = await startServer(ns, '127.0.0.1', 8099, 'in-netns');
  });
  afterAll(async () => {
    await server?.stop();
    if (ns) deleteNetns(ns);
  });

  it('carries a raw TCP exchange with the server inside the netns', async () => {
    const sock = dialInNetns(ns, 8099);
    let out = '';
    sock.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => sock.on('end', resolve));
    expect(out).toBe('in-netns:127.0.0.1\n');
    sock.destroy();
  });

  it('speaks HTTP for http.request, and fails like a socket when nothing listens', async () => {
    const web = http.createServer((req, res) => res.end(`hello ${req.url}`));
    // The HTTP server runs in this process; the netns has its own loopback, so it is not reachable there.
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const hostPort = (web.address() as { port: number }).port;
    await expect(getInNetns(ns, hostPort, '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${hostPort}` });
    web.close();
    const helper = spawnHttpIn(ns, 8100);
    try {
      await until(() => helper.out.includes('listening'));
      expect(await getInNetns(ns, 8100, '/a/b')).toEqual({ status: 200, body: 'hello /a/b' });
    } finally {
      helper.child.kill('SIGKILL');
    }
  });

  it('kills its socat when the stream is destroyed', async () => {
    const sock = dialInNetns(ns, 8099);
    await new Promise((resolve) => sock.once('connect', resolve));
    // nsenter execs socat: one process, found by its command line.
    const pids = spawnSync('pgrep', ['-f', 'socat -d -d -t 3600 STDIO,shut-close TCP:127.0.0.1:8099'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(pids).toHaveLength(1);
    const pid = pids[0]!;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    sock.destroy();
    expect(await until(() => !existsSync(`/proc/${pid}`))).toBe(true);
  });

  it("times out like a socket when the peer says nothing (http.request's timeout)", async () => {
    const silent = spawnHttpIn(ns, 8101, 'silent');
    try {
      await until(() => silent.out.includes('listening'));
      const started = Date.now();
      const err = await new Promise<Error>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: 8101, timeout: 300, createConnection: (o: { timeout?: number }) => dialInNetns(ns, 8101).setTimeout(o.timeout ?? 0) as never });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', resolve);
        req.end();
      });
      expect(err.message).toBe('timed out');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.child.kill('SIGKILL');
    }
  });

  it('refuses hosts that socat could read as options', () => {
    expect(() => dialInNetns(ns, 80, '127.0.0.1,fork')).toThrow('invalid host');
    expect(() => dialInNetns(ns, 0)).toThrow('invalid port');
    expect(() => dialInNetns('../x', 80)).toThrow('invalid network namespace name');
  });
});

describe("a sandbox's registry client", () => {
  let sb: TestSandbox;
  let registry: ChildProcess | undefined;
  let decoy: http.Server;
  let dir: string;
  let port: number;
  beforeAll(async () => {
    sb = await openSandbox('reg');
    dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-sb-registry-'));
    port = await freePort();
    // On the server's loopback, the same port answers with errors: a push that reaches it fails.
    decoy = http.createServer((_req, res) => res.writeHead(500).end('decoy'));
    await new Promise<void>((resolve) => decoy.listen(port, '127.0.0.1', resolve));
    writeFileSync(path.join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    if (existsSync('/usr/bin/docker-registry')) {
      registry = spawn('nsenter', [`--net=/run/netns/${sb.netns}`, '--', '/usr/bin/docker-registry', 'serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
    }
  }, 60_000);
  afterAll(async () => {
    registry?.kill('SIGKILL');
    decoy?.close();
    await sb?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('pushes to and pulls from localhost inside the sandbox netns, not the server loopback', async () => {
    expect(registry, 'Debian docker-registry is installed by setup --test-tools').toBeDefined();
    const up = async () => (await getInNetns(sb.netns, port, '/v2/').catch(() => ({ status: 0 }))).status === 200;
    for (let i = 0; i < 100 && !(await up()); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await sb.docker(['tag', 'busybox', `localhost:${port}/mine`])).code).toBe(0);
    const push = await sb.docker(['push', `localhost:${port}/mine`]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/latest: digest: sha256:[0-9a-f]{64}/);
    expect((await getInNetns(sb.netns, port, '/v2/_catalog')).body).toContain('"mine"');
    await sb.docker(['rmi', `localhost:${port}/mine`]);
    const pull = await sb.docker(['pull', `localhost:${port}/mine`]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain(`Downloaded newer image for localhost:${port}/mine:latest`);
  });
});

/** A Node HTTP server inside `netns`: it answers `hello <url>`, or (`silent`) never answers. */
function spawnHttpIn(netns: string, port: number, mode: 'hello' | 'silent' = 'hello'): { child: ChildProcess; out: string } {
  const handler = mode === 'hello' ? "(q, s) => s.end('hello ' + q.url)" : '() => undefined';
  const code = `require('node:http').createServer(${handler}).listen(${port}, '127.0.0.1', () => console.log('listening'))`;
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const handle = { child, out: '' };
  child.stdout!.on('data', (d: Buffer) => (handle.out += d.toString()));
  return handle;
}
