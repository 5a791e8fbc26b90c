import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ANNOTATION, type LayoutIndex } from '../../runtime/catalog/layout.ts';
import { DOCKERFILES_DIR } from '../../runtime/catalog/dockerfile-images.ts';
import { Catalog, Engine, serveEngineApi, SHELL_IMAGE, Store } from '../../runtime/index.ts';
import { CATALOG_DIR, DOCKER_20, startEngine, waitForHttp, type DockerResult, type TestEngine } from '../helpers/engine.ts';
import { blobPath, readLayer, readLayoutImages, type LayoutImage } from '../helpers/layout.ts';

const execFileAsync = promisify(execFile);

// The images setup built from runtime/catalog/dockerfiles/ with layerlab's builder, on debian:bookworm-slim.
const BUILT = ['node:latest', 'python:latest', 'nginx:latest', 'registry:2', SHELL_IMAGE];
let images: LayoutImage[] = [];
let welcomePage = '';
let shellWelcome = '';

function image(ref: string): LayoutImage {
  const found = images.find((i) => i.ref === `docker.io/${ref.includes('/') ? ref : `library/${ref}`}`);
  if (!found) throw new Error(`${ref} is not in the catalog`);
  return found;
}

beforeAll(async () => {
  if (!existsSync(path.join(CATALOG_DIR, 'index.json'))) throw new Error(`no image catalog at ${CATALOG_DIR}: run \`npx tsx server/cli.ts setup\` first`);
  images = await readLayoutImages(CATALOG_DIR);
  welcomePage = await fs.readFile(path.join(DOCKERFILES_DIR, 'nginx/index.html'), 'utf8');
  shellWelcome = await fs.readFile(path.join(DOCKERFILES_DIR, 'shell/motd'), 'utf8');
});

describe('catalog images built from Dockerfiles', () => {
  it('start from the very layer of debian:bookworm-slim, then the Dockerfile steps', () => {
    const slim = image('debian:bookworm-slim');
    expect(slim.config.rootfs.diff_ids).toHaveLength(1);
    for (const ref of BUILT) {
      const img = image(ref);
      expect(img.config.rootfs.diff_ids.length).toBeGreaterThanOrEqual(2);
      expect(img.config.rootfs.diff_ids[0]).toBe(slim.config.rootfs.diff_ids[0]);
      expect(img.manifest.layers[0]).toEqual(slim.manifest.layers[0]);
      const layerHistory = (img.config.history ?? []).filter((h) => !h.empty_layer);
      expect(layerHistory[0]?.created_by).toBe((slim.config.history ?? [])[0]?.created_by);
      expect(layerHistory[1]?.created_by).toMatch(/^\/bin\/sh -c apt-get update +&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /);
      expect(img.config.config?.Labels?.['io.layerlab.catalog.built-from']).toMatch(/^runtime\/catalog\/dockerfiles\/[a-z]+\/Dockerfile built by layerlab's builder on debian:bookworm-slim \(Debian 12\.\d+\)/);
    }
    expect(image('nginx:1.22').manifestDigest).toBe(image('nginx:latest').manifestDigest);
    expect(image('nginx:bookworm').manifestDigest).toBe(image('nginx:latest').manifestDigest);
    expect(image('node:18').manifestDigest).toBe(image('node:latest').manifestDigest);
    for (const tag of ['3', '3.11', 'slim']) expect(image(`python:${tag}`).manifestDigest).toBe(image('python:latest').manifestDigest);
    expect(image('registry:latest').manifestDigest).toBe(image('registry:2').manifestDigest);
  });

  it('say in their labels which Debian packages they are', () => {
    const packages = (ref: string) => image(ref).config.config?.Labels?.['io.layerlab.catalog.packages'] ?? '';
    expect(packages('nginx:latest')).toMatch(/(^| )nginx=1\.22\./);
    expect(packages('node:latest')).toMatch(/(^| )nodejs=18\..* npm=/);
    for (const pkg of ['python-is-python3=', 'python3-pip=', 'python3-venv=', 'python3=3.11.']) expect(packages('python:latest').split(' ').some((p) => p.startsWith(pkg))).toBe(true);
    expect(packages('registry:2')).toMatch(/(^| )docker-registry=2\./);
  });

  it('configure nginx like the official image and the shell for the terminal', () => {
    expect(image('nginx:latest').config.config).toMatchObject({
      Cmd: ['nginx', '-g', 'daemon off;'],
      ExposedPorts: { '80/tcp': {} },
      StopSignal: 'SIGQUIT',
    });
    expect(image('registry:2').config.config).toMatchObject({
      Entrypoint: ['/entrypoint.sh'],
      Cmd: ['/etc/docker/registry/config.yml'],
      ExposedPorts: { '5000/tcp': {} },
      Volumes: { '/var/lib/registry': {} },
    });
    const shell = image(SHELL_IMAGE).config.config;
    expect(shell).toMatchObject({ Cmd: ['bash', '-l'], WorkingDir: '/workspace' });
    expect(shell?.Env).toContain('TERM=xterm-256color');
  });

  it('keep apt lists out of the layers and only nginx files in its RUN layer', async () => {
    const layer = await readLayer(blobPath(CATALOG_DIR, image('nginx:latest').manifest.layers[1]!.digest));
    const byName = new Map(layer.entries.map((e) => [e.name, e]));
    expect(byName.get('usr/sbin/nginx')?.type).toBe('file');
    expect(byName.get('var/log/nginx/access.log')).toMatchObject({ type: 'symlink', linkname: '/dev/stdout' });
    expect(byName.get('var/log/nginx/error.log')).toMatchObject({ type: 'symlink', linkname: '/dev/stderr' });
    expect(byName.has('etc/nginx/sites-enabled/default')).toBe(false);
    expect(byName.has('usr/bin/bash')).toBe(false); // in the base layer, unchanged
    expect(layer.entries.length).toBeLessThan(400);
    for (const ref of BUILT) {
      const run = await readLayer(blobPath(CATALOG_DIR, image(ref).manifest.layers[1]!.digest));
      expect(run.entries.filter((e) => /^var\/lib\/apt\/lists\/.+|^var\/cache\/apt\/.+\.(bin|deb)$/.test(e.name)).map((e) => e.name)).toEqual([]);
    }
    const conf = await readLayer(blobPath(CATALOG_DIR, image('nginx:latest').manifest.layers[2]!.digest));
    expect(conf.entries.find((e) => e.name === 'etc/nginx/conf.d/default.conf')?.type).toBe('file');
  });

  it('mark layerlab/shell as a system image that Catalog leaves out of its learner entries', async () => {
    const index = JSON.parse(await fs.readFile(path.join(CATALOG_DIR, 'index.json'), 'utf8')) as LayoutIndex;
    const system = index.manifests.filter((m) => m.annotations?.[SYSTEM_ANNOTATION] === 'true').map((m) => m.annotations?.['io.containerd.image.name']);
    expect(system).toEqual([`docker.io/${SHELL_IMAGE}`]);
    const catalog = await Catalog.open(CATALOG_DIR);
    expect(catalog.names()).toContain('nginx:latest');
    expect(catalog.names()).not.toContain(SHELL_IMAGE);
    expect(catalog.systemEntries.map((e) => e.name)).toEqual([SHELL_IMAGE]);
  });
});

describe('nginx through the real docker CLI', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startEngine('catalog-nginx');
  });
  afterAll(() => engine?.stop());

  const ok = (...args: string[]): string => {
    const out = engine.docker(args);
    if (out.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${out.code}): ${out.stderr}`);
    return out.stdout;
  };

  it('is in a fresh engine with its base layer shared, and layerlab/shell is not', () => {
    const names = ok('images', '--format', '{{.Repository}}:{{.Tag}}').trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['nginx:latest', 'nginx:1.22', 'nginx:bookworm', 'debian:bookworm-slim']));
    expect(names.filter((n) => n.startsWith('layerlab/'))).toEqual([]);
    const rootfs = (ref: string) => JSON.parse(ok('inspect', '-f', '{{json .RootFS.Layers}}', ref)) as string[];
    expect(rootfs('nginx')[0]).toBe(rootfs('debian:bookworm-slim')[0]);
  });

  it('serves the welcome page on a published port, logs to stdout and stops promptly', async () => {
    const port = await freePort();
    ok('run', '-d', '--name', 'catalog-nginx-web', '-p', `${port}:80`, 'nginx');
    let response: { status: number; body: string } | undefined;
    for (let i = 0; i < 50 && response === undefined; i++) {
      response = await fetch(`http://127.0.0.1:${port}/`).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        () => undefined,
      );
      if (response === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    expect(response).toEqual({ status: 200, body: welcomePage });
    expect(response!.body).toContain('<title>Welcome to nginx!</title>');
    expect(ok('logs', 'catalog-nginx-web')).toMatch(/"GET \/ HTTP\/1\.1" 200 /);
    const started = Date.now();
    ok('stop', 'catalog-nginx-web');
    expect(Date.now() - started).toBeLessThan(5_000); // SIGQUIT ends nginx at once; a missed signal would wait 10 s
    expect(ok('inspect', '-f', '{{.State.ExitCode}}', 'catalog-nginx-web').trim()).toBe('0');
    ok('rm', 'catalog-nginx-web');
  }, 60_000);
});

describe('node, python and registry through the real docker CLI', () => {
  let engine: TestEngine;
  const port = 15000 + Math.floor(Math.random() * 5000);
  beforeAll(async () => {
    engine = await startEngine('catalog-langs');
  });
  afterAll(async () => {
    engine?.docker(['rm', '-f', 'catalog-langs-registry']);
    await engine?.stop();
  });

  const ok = (...args: string[]): string => {
    const out = engine.docker(args, { timeoutMs: 60_000 });
    if (out.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${out.code}): ${out.stderr}`);
    return out.stdout;
  };

  it('runs node and python as the official images would', () => {
    expect(ok('run', '--rm', 'node', 'node', '-e', 'console.log(1+1)')).toBe('2\n');
    expect(ok('run', '--rm', 'node:18', 'npm', '--version')).toMatch(/^9\.\d+\.\d+\n$/);
    expect(ok('run', '--rm', 'python', 'python3', '-c', 'import venv, pip; print(2)')).toBe('2\n');
    expect(ok('run', '--rm', 'python:3.11', 'python', '-c', 'import sys; print(sys.version_info[:2])')).toBe('(3, 11)\n');
  }, 120_000);

  it('builds a learner Dockerfile FROM node and FROM python offline', async () => {
    const ctx = await fs.mkdtemp(path.join(os.tmpdir(), 'layerlab-catalog-langs-ctx-'));
    try {
      await fs.writeFile(path.join(ctx, 'app.js'), 'console.log(`node ${process.versions.node.split(".")[0]}`);\n');
      await fs.writeFile(path.join(ctx, 'app.py'), 'import sys\nprint("python", sys.version_info[0])\n');
      await fs.writeFile(path.join(ctx, 'Dockerfile.node'), 'FROM node\nWORKDIR /app\nCOPY app.js .\nRUN node app.js > built.txt\nCMD ["node", "app.js"]\n');
      await fs.writeFile(path.join(ctx, 'Dockerfile.python'), 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nRUN python -m venv /venv\nCMD ["python", "app.py"]\n');
      ok('build', '-q', '-t', 'catalog-langs-node', '-f', path.join(ctx, 'Dockerfile.node'), ctx);
      ok('build', '-q', '-t', 'catalog-langs-python', '-f', path.join(ctx, 'Dockerfile.python'), ctx);
      expect(ok('run', '--rm', 'catalog-langs-node')).toBe('node 18\n');
      expect(ok('run', '--rm', 'catalog-langs-python')).toBe('python 3\n');
    } finally {
      engine.docker(['rmi', 'catalog-langs-node', 'catalog-langs-python']);
      await fs.rm(ctx, { recursive: true, force: true });
    }
  }, 120_000);

  it('shows the shared debian base in docker history and docker system df', () => {
    const history = (ref: string) => ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', ref).trim().split('\n');
    expect(history('node').at(-1)).toBe(history('debian:bookworm-slim').at(-1));
    expect(history('node').at(-1)).toMatch(/^mmdebstrap /);
    // docker system df -v: REPOSITORY TAG IMAGE ID CREATED SIZE SHARED SIZE UNIQUE SIZE CONTAINERS, one row per image.
    const rows = ok('system', 'df', '-v').split('\n').map((l) => l.split(/ {2,}/));
    const row = (repo: string) => rows.find((r) => r[0] === repo && r.length === 8) ?? [];
    const slimSize = row('debian').length > 0 ? rows.find((r) => r[0] === 'debian' && r[1] === 'bookworm-slim')?.[4] : undefined;
    expect(slimSize).toMatch(/^\d+(\.\d+)?MB$/);
    for (const repo of ['node', 'python', 'nginx', 'registry']) expect(row(repo)[5]).toBe(slimSize);
  });

  it('runs registry:2 on a published port that takes pushes and serves pulls', async () => {
    ok('run', '-d', '--name', 'catalog-langs-registry', '-p', `${port}:5000`, 'registry:2');
    await waitForHttp(`http://127.0.0.1:${port}/v2/`, 20_000);
    const ref = `localhost:${port}/learner/box:v1`;
    ok('tag', 'busybox', ref);
    expect(ok('push', ref)).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    ok('rmi', ref);
    expect(ok('pull', ref)).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(ok('exec', 'catalog-langs-registry', 'ls', '/var/lib/registry/docker/registry/v2/repositories/learner')).toBe('box\n');
    ok('rm', '-f', 'catalog-langs-registry');
  }, 60_000);
});

describe('layerlab/shell imported by name into a namespace (as the server does)', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'layerlab-catalog-shell-'));
  const socket = path.join(base, 'docker.sock');
  let engine: Engine | undefined;
  let api: http.Server | undefined;

  beforeAll(async () => {
    const store = await Store.open(path.join(base, 'store'));
    engine = await Engine.open(store, { namespace: 'catalog-shell', catalogDir: CATALOG_DIR, version: '20.10.24', stateDir: path.join(base, 'engine'), limits: { diskPreallocate: false, diskQuotaBytes: 256 * 1024 * 1024 } });
    await engine.catalog.importSystemImage(store, engine.ns, SHELL_IMAGE);
    api = await serveEngineApi(engine, socket);
  }, 60_000);
  afterAll(async () => {
    api?.close();
    api?.closeAllConnections();
    await engine?.destroy();
    await fs.rm(base, { recursive: true, force: true });
  });

  /** The CLI run asynchronously: the engine answering it lives in this process's event loop. */
  const docker = async (args: string[]): Promise<DockerResult> => {
    const env = { PATH: process.env.PATH, HOME: base, DOCKER_HOST: `unix://${socket}` };
    try {
      const { stdout, stderr } = await execFileAsync(DOCKER_20, args, { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  it('runs the tools a learner expects, in /workspace', async () => {
    const out = await docker(['run', '--rm', SHELL_IMAGE, 'bash', '-lc', 'jq --version && curl --version && tree --version && pwd && echo "TERM=$TERM"']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^jq-1\.6\ncurl 7\.88\.1 [^\n]*\n[\s\S]*\ntree v2\.[^\n]*\n\/workspace\nTERM=xterm-256color\n$/);
  });

  it('gives an interactive shell the prompt, aliases, completion and the welcome text', async () => {
    const out = await docker(['run', '--rm', SHELL_IMAGE, 'bash', '-lic', 'echo "PS1=$PS1"; alias ll; complete -p cd']);
    expect(out.code).toBe(0);
    expect(out.stdout.startsWith(shellWelcome)).toBe(true);
    expect(out.stdout).toContain('u@layerlab');
    expect(out.stdout).toContain("alias ll='ls -alF'");
    expect(out.stdout).toMatch(/complete .* cd\n/); // bash-completion is loaded
  });

  it('refuses names that are not system images', async () => {
    for (const name of ['layerlab/nothing', 'nginx']) {
      await expect(engine!.catalog.importSystemImage(engine!.store, engine!.ns, name)).rejects.toThrow(/is not a system image of layerlab's catalog/);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
