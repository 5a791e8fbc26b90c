import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ANNOTATION, type LayoutIndex } from '../../runtime/catalog/layout.ts';
import { NGINX_WELCOME_PAGE } from '../../runtime/catalog/nginx.ts';
import { SHELL_WELCOME } from '../../runtime/catalog/shell.ts';
import { Catalog, Engine, serveEngineApi, SHELL_IMAGE, Store } from '../../runtime/index.ts';
import { CATALOG_DIR, DOCKER_20, startEngine, type DockerResult, type TestEngine } from '../helpers/engine.ts';
import { blobPath, readLayer, readLayoutImages, type LayoutImage } from '../helpers/layout.ts';

const execFileAsync = promisify(execFile);

// nginx and layerlab/shell as setup built them at the machine's catalog: a second layer on debian:bookworm-slim.
let images: LayoutImage[] = [];

function image(ref: string): LayoutImage {
  const found = images.find((i) => i.ref === `docker.io/${ref.includes('/') ? ref : `library/${ref}`}`);
  if (!found) throw new Error(`${ref} is not in the catalog`);
  return found;
}

beforeAll(async () => {
  if (!existsSync(path.join(CATALOG_DIR, 'index.json'))) throw new Error(`no image catalog at ${CATALOG_DIR}: run \`npx tsx server/cli.ts setup\` first`);
  images = await readLayoutImages(CATALOG_DIR);
});

describe('layered catalog images', () => {
  it('put nginx and layerlab/shell on the very layer of debian:bookworm-slim', () => {
    const slim = image('debian:bookworm-slim');
    expect(slim.config.rootfs.diff_ids).toHaveLength(1);
    for (const ref of ['nginx:latest', SHELL_IMAGE]) {
      const img = image(ref);
      expect(img.config.rootfs.diff_ids).toHaveLength(2);
      expect(img.config.rootfs.diff_ids[0]).toBe(slim.config.rootfs.diff_ids[0]);
      expect(img.manifest.layers[0]).toEqual(slim.manifest.layers[0]);
      const layerHistory = (img.config.history ?? []).filter((h) => !h.empty_layer);
      expect(layerHistory[0]?.created_by).toBe((slim.config.history ?? [])[0]?.created_by);
      expect(layerHistory[1]?.created_by).toMatch(/^mmdebstrap as for debian:bookworm-slim with --include=.*stored as the difference to debian:bookworm-slim$/);
    }
    expect(image('nginx:1.22').manifestDigest).toBe(image('nginx:latest').manifestDigest);
    expect(image('nginx:bookworm').manifestDigest).toBe(image('nginx:latest').manifestDigest);
  });

  it('configure nginx like the official image and the shell for the terminal', () => {
    expect(image('nginx:latest').config.config).toMatchObject({
      Cmd: ['nginx', '-g', 'daemon off;'],
      ExposedPorts: { '80/tcp': {} },
      StopSignal: 'SIGQUIT',
    });
    expect(image('nginx:latest').config.config?.Labels?.['io.layerlab.catalog.packages']).toMatch(/(^| )nginx=1\.22\./);
    const shell = image(SHELL_IMAGE).config.config;
    expect(shell).toMatchObject({ Cmd: ['bash', '-l'], WorkingDir: '/workspace' });
    expect(shell?.Env).toContain('TERM=xterm-256color');
    expect((image(SHELL_IMAGE).config.history ?? []).filter((h) => h.empty_layer).map((h) => h.created_by)).toEqual([
      'ENV TERM=xterm-256color',
      'WORKDIR /workspace',
      'CMD ["bash","-l"]',
    ]);
  });

  it('store only the difference in the second layer: nginx files, log links, no base files', async () => {
    const layer = await readLayer(blobPath(CATALOG_DIR, image('nginx:latest').manifest.layers[1]!.digest));
    const byName = new Map(layer.entries.map((e) => [e.name, e]));
    expect(byName.get('usr/sbin/nginx')?.type).toBe('file');
    expect(byName.get('var/log/nginx/access.log')).toMatchObject({ type: 'symlink', linkname: '/dev/stdout' });
    expect(byName.get('var/log/nginx/error.log')).toMatchObject({ type: 'symlink', linkname: '/dev/stderr' });
    expect(byName.get('etc/nginx/conf.d/default.conf')?.type).toBe('file');
    expect(byName.has('etc/nginx/sites-enabled/default')).toBe(false);
    expect(byName.has('usr/bin/bash')).toBe(false); // in the base layer, unchanged
    expect(layer.entries.length).toBeLessThan(400);
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
    expect(ok('history', '--format', '{{.CreatedBy}}', 'nginx').trim().split('\n')).toHaveLength(5); // CMD, STOPSIGNAL, EXPOSE, 2 layers
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
    expect(response).toEqual({ status: 200, body: NGINX_WELCOME_PAGE });
    expect(response!.body).toContain('<title>Welcome to nginx!</title>');
    expect(ok('logs', 'catalog-nginx-web')).toMatch(/"GET \/ HTTP\/1\.1" 200 /);
    const started = Date.now();
    ok('stop', 'catalog-nginx-web');
    expect(Date.now() - started).toBeLessThan(5_000); // SIGQUIT ends nginx at once; a missed signal would wait 10 s
    expect(ok('inspect', '-f', '{{.State.ExitCode}}', 'catalog-nginx-web').trim()).toBe('0');
    ok('rm', 'catalog-nginx-web');
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
    expect(out.stdout.startsWith(SHELL_WELCOME)).toBe(true);
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
