import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_28, REPO_ROOT, startEngine, type TestEngine } from '../helpers/engine.ts';
import { entriesOf, rawRequest, sha256, tarOf } from './archive-helpers.ts';
import { findDockerd, type Dockerd } from '../helpers/dockerd.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/docker-save');
const DOCKERD_SAVE = path.join(FIXTURES, 'dockerd-20.10-save.tar');
const ROOTFS = path.join(FIXTURES, 'rootfs-small.tar');
const BASE_ID = 'sha256:dc42d2a358decd2e5130d5b2b5f2b157821c27028a4aac6c66b9c9d42ed0fa4b';
const CHILD_ID = 'sha256:7e55fca60c8c65a5c0b013e819ef866e70cbbb2dc4d29cbad46f2897c0b38066';

let engine: TestEngine;
let work: string;

beforeAll(async () => {
  engine = await startEngine('image-archive');
  work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-image-archive-'));
});

afterAll(async () => {
  await engine?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Canonical tag → image ID, as the engine's namespace file holds them. */
async function tags(e: TestEngine): Promise<Record<string, string>> {
  return (JSON.parse(await fs.readFile(path.join(e.stateDir, 'namespaces/default.json'), 'utf8')) as { tags: Record<string, string> }).tags;
}

interface StoredConfig {
  comment?: string;
  created?: string;
  history: unknown[];
  config: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
}

async function storedConfig(e: TestEngine, id: string): Promise<StoredConfig> {
  return JSON.parse(await fs.readFile(path.join(e.stateDir, 'blobs/sha256', id.slice(7)), 'utf8')) as StoredConfig;
}

/** Entry names of the layer an imported (one-layer) image stores. */
async function storedLayerNames(e: TestEngine, diffId: string): Promise<string[]> {
  const record = JSON.parse(await fs.readFile(path.join(e.stateDir, 'layers', diffId.slice(7), 'layer.json'), 'utf8')) as { blob: { digest: string } };
  const tar = await fs.readFile(path.join(e.stateDir, 'blobs/sha256', record.blob.digest.slice(7)));
  expect(sha256(tar)).toBe(diffId);
  return (await entriesOf(tar)).map((x) => x.name);
}

function ok(result: { code: number; stdout: string; stderr: string }): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

describe('docker import', () => {
  it('makes a one-layer image with a normalised layer, Docker-shaped config and the changes applied', async () => {
    const out = ok(engine.docker(['import', '-c', 'CMD ["/bin/hi"]', '-c', 'ENV GREETING=hello', ROOTFS, 'ia/base:1']));
    expect(out).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const id = out.trim();
    expect((await tags(engine))['docker.io/ia/base:1']).toBe(id);
    const config = await storedConfig(engine, id);
    expect(config.comment).toBe('Imported from -');
    expect(config.history).toEqual([{ created: config.created, comment: 'Imported from -' }]);
    expect(config.config.Cmd).toEqual(['/bin/hi']);
    expect(config.config.Env).toEqual(['GREETING=hello']);
    expect(Object.keys(config.config).slice(0, 4)).toEqual(['Hostname', 'Domainname', 'User', 'AttachStdin']);
    // GNU tar wrote ./, ./etc/, ./etc/greeting, …; the stored layer drops ./ and keeps the order given.
    expect(await storedLayerNames(engine, config.rootfs.diff_ids[0]!)).toEqual(['etc/', 'etc/greeting', 'etc/link', 'bin/', 'bin/hi']);
  });

  it('applies every supported change instruction, in Dockerfile syntax', async () => {
    const changes = [
      'ENV A=1 B="two words"',
      'ENV PATHX $A/bin',
      'ENTRYPOINT ["/bin/entry"]',
      'CMD echo hi',
      'EXPOSE 8080 53/udp',
      'LABEL org.example.x="y z" plain=1',
      'USER 1000:1000',
      'VOLUME ["/data", "/cache"]',
      'WORKDIR /srv',
      'WORKDIR app',
      'STOPSIGNAL SIGINT',
    ];
    const out = ok(engine.docker(['import', ...changes.flatMap((c) => ['-c', c]), '-m', 'with changes', ROOTFS, 'ia/changes']));
    const config = await storedConfig(engine, out.trim());
    expect(config.comment).toBe('with changes');
    expect(config.config).toMatchObject({
      Env: ['A=1', 'B=two words', 'PATHX=1/bin'],
      Entrypoint: ['/bin/entry'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      ExposedPorts: { '53/udp': {}, '8080/tcp': {} },
      Labels: { 'org.example.x': 'y z', plain: '1' },
      User: '1000:1000',
      Volumes: { '/cache': {}, '/data': {} },
      WorkingDir: '/srv/app',
      StopSignal: 'SIGINT',
    });
    expect((await tags(engine))['docker.io/ia/changes:latest']).toBe(out.trim());
  });

  it('takes a gzip body from stdin and refuses bad changes and URLs with clear messages', async () => {
    const gz = gzipSync(readFileSync(ROOTFS));
    const out = ok(engine.docker(['import', '-', 'ia/gz:2'], { input: gz }));
    expect((await tags(engine))['docker.io/ia/gz:2']).toBe(out.trim());
    const bad = engine.docker(['import', '-c', 'RUN rm -rf /', ROOTFS, 'ia/bad:1']);
    expect([bad.code, bad.stderr]).toEqual([1, 'Error response from daemon: run is not a valid change command\n']);
    const url = engine.docker(['import', 'http://127.0.0.1:9/rootfs.tar', 'ia/url:1']);
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/importing from a URL is not supported by layerlab/);
    expect(await tags(engine)).not.toHaveProperty('docker.io/ia/bad:1');
  });
});

describe('docker load', () => {
  it('loads an archive recorded from real dockerd with the same image IDs', async () => {
    const result = engine.docker(['load', '-i', DOCKERD_SAVE]);
    expect([result.code, result.stdout, result.stderr]).toEqual([0, 'Loaded image: ia-fixture/base:1\nLoaded image: ia-fixture/child:1\n', '']);
    const t = await tags(engine);
    expect([t['docker.io/ia-fixture/base:1'], t['docker.io/ia-fixture/child:1']]).toEqual([BASE_ID, CHILD_ID]);
  });

  it('says when a tag moves from another image, as dockerd does', async () => {
    const other = ok(engine.docker(['import', ROOTFS, 'ia-fixture/child:1'])).trim();
    const result = engine.docker(['load', '-i', DOCKERD_SAVE]);
    expect(result.stdout).toBe(
      `Loaded image: ia-fixture/base:1\nThe image ia-fixture/child:1 already exists, renaming the old one with ID ${other} to empty string\nLoaded image: ia-fixture/child:1\n`,
    );
    expect((await tags(engine))['docker.io/ia-fixture/child:1']).toBe(CHILD_ID);
  });

  it('streams progress with quiet=0 under exactly application/json', async () => {
    const fresh = await startEngine('image-archive-progress');
    try {
      const res = await rawRequest(fresh.socket, 'POST', '/v1.41/images/load?quiet=0', readFileSync(DOCKERD_SAVE));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      const messages = res.body.trim().split('\r\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const progress = messages.filter((m) => m.status === 'Loading layer');
      expect(progress.map((m) => m.id)).toEqual(['bf2cff15ee23', '4b9b97b91582']);
      expect(progress[0]).toMatchObject({ progressDetail: { current: 10240, total: 10240 }, progress: expect.stringMatching(/^\[=+>\] +10\.24kB\/10\.24kB$/) });
      expect(messages.filter((m) => m.stream).map((m) => m.stream)).toEqual(['Loaded image: ia-fixture/base:1\n', 'Loaded image: ia-fixture/child:1\n']);
    } finally {
      await fresh.stop();
    }
  });

  it('loads an OCI image layout (Docker ≥25 style, gzip layer) and names it from the annotation', async () => {
    const layer = readFileSync(ROOTFS);
    const gz = gzipSync(layer);
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, history: [{ comment: 'oci' }] });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length }],
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/ia/oci:7', 'org.opencontainers.image.ref.name': '7' } }],
    });
    const blob = (data: string | Buffer) => ({ name: `blobs/sha256/${sha256(data).slice(7)}`, body: data });
    const tar = await tarOf([{ name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', body: index }, blob(config), blob(manifest), blob(gz)]);
    const file = path.join(work, 'oci.tar');
    await fs.writeFile(file, tar);
    expect(ok(engine.docker(['load', '-i', file]))).toBe('Loaded image: ia/oci:7\n');
    expect((await tags(engine))['docker.io/ia/oci:7']).toBe(sha256(config));
  });

  it('works from the Docker 28 CLI too', async (ctx) => {
    if (!DOCKER_28) ctx.skip();
    expect(ok(engine.docker(['load', '-i', DOCKERD_SAVE], { cli: DOCKER_28 }))).toBe('Loaded image: ia-fixture/base:1\nLoaded image: ia-fixture/child:1\n');
  });
});

describe('docker save', () => {
  it('round-trips through a fresh engine with identical image IDs', async () => {
    ok(engine.docker(['load', '-i', DOCKERD_SAVE]));
    const archive = path.join(work, 'roundtrip.tar');
    ok(engine.docker(['save', '-o', archive, 'ia-fixture/child:1', 'ia/base:1']));
    const entries = await entriesOf(readFileSync(archive));
    const manifest = JSON.parse(String(entries.find((e) => e.name === 'manifest.json')!.body));
    expect(manifest.map((m: { RepoTags: string[] }) => m.RepoTags)).toEqual([['ia-fixture/child:1'], ['ia/base:1']]);
    expect(manifest[0].Layers).toEqual(['5f8aad38e6eed38c6b584267b6b3f30d14c262562d850a476f9358674ca10eb6/layer.tar', 'a0a3b227b949ae3f595e966037f371cf334f02c5f09e522d20711af24e415208/layer.tar']);
    for (const m of manifest) for (const l of m.Layers) expect(entries.find((e) => e.name === l)?.type).toBe('file');
    const before = await tags(engine);
    const fresh = await startEngine('image-archive-roundtrip');
    try {
      expect(ok(fresh.docker(['load', '-i', archive]))).toBe('Loaded image: ia-fixture/child:1\nLoaded image: ia/base:1\n');
      const after = await tags(fresh);
      for (const tag of ['docker.io/ia-fixture/child:1', 'docker.io/ia/base:1']) expect(after[tag]).toBe(before[tag]);
    } finally {
      await fresh.stop();
    }
  });

  it("reproduces dockerd's own archive for the same images, file for file", async () => {
    ok(engine.docker(['load', '-i', DOCKERD_SAVE]));
    const archive = path.join(work, 'same-as-dockerd.tar');
    ok(engine.docker(['save', '-o', archive, 'ia-fixture/base:1', 'ia-fixture/child:1']));
    const summary = async (file: string) => (await entriesOf(readFileSync(file))).map((e) => `${e.name} ${e.type} ${e.linkname ?? ''} ${sha256(e.body ?? '')}`).sort();
    expect(await summary(archive)).toEqual(await summary(DOCKERD_SAVE));
  });

  it('saves every tag of a repository, or an image by ID, and reports missing names like dockerd', async () => {
    const archive = path.join(work, 'byname.tar');
    ok(engine.docker(['save', '-o', archive, 'ia-fixture/base', CHILD_ID.slice(7, 19)]));
    const manifest = JSON.parse(String((await entriesOf(readFileSync(archive))).find((e) => e.name === 'manifest.json')!.body));
    expect(manifest.map((m: { Config: string; RepoTags: string[] | null }) => [m.Config, m.RepoTags])).toEqual([
      [`${BASE_ID.slice(7)}.json`, ['ia-fixture/base:1']],
      [`${CHILD_ID.slice(7)}.json`, null],
    ]);
    // moby prints every image ID when the last image in the archive has no tag.
    expect(ok(engine.docker(['load', '-i', archive]))).toBe(`Loaded image: ia-fixture/base:1\nLoaded image ID: ${BASE_ID}\nLoaded image ID: ${CHILD_ID}\n`);
    const missing = engine.docker(['save', '-o', archive, 'nosuch-ia']);
    expect([missing.code, missing.stderr]).toEqual([1, 'Error response from daemon: No such image: nosuch-ia\n']);
    const missingTag = engine.docker(['save', '-o', archive, 'nosuch-ia:1']);
    expect([missingTag.code, missingTag.stderr]).toEqual([1, 'Error response from daemon: reference does not exist\n']);
  });
});

describe('docker pull (from the embedded hub, seeded with the catalog)', () => {
  it('an image already here prints no layer lines, as moby; other names get the list of what the hub has', async () => {
    const pulled = engine.docker(['pull', 'busybox']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/^Using default tag: latest\nlatest: Pulling from library\/busybox\nDigest: sha256:[a-f0-9]{64}\nStatus: Image is up to date for busybox:latest\ndocker.io\/library\/busybox:latest\n$/);
    const missing = engine.docker(['pull', 'nosuch-ia:9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error response from daemon: pull access denied for nosuch-ia: layerlab works offline and nosuch-ia is not in its image hub\. Available images: .*busybox/);
  });
});

describe('interoperability with a real dockerd (optional)', () => {
  let dockerd: Dockerd | undefined;
  beforeAll(async () => {
    dockerd = await findDockerd();
  }, 120_000);
  afterAll(async () => {
    await dockerd?.stop();
  });

  it("layerlab's save loads into real dockerd with the same ID, and back", async (ctx) => {
    if (!dockerd) {
      console.warn('skipped: no dockerd could be reached or started (install docker.io to run this test)');
      ctx.skip();
    }
    const d = dockerd!;
    const tag = `layerlab-compat/ia-${process.pid}:1`;
    const id = ok(engine.docker(['import', '-c', 'CMD ["/bin/hi"]', ROOTFS, tag])).trim();
    const archive = path.join(work, 'to-dockerd.tar');
    ok(engine.docker(['save', '-o', archive, tag]));
    try {
      expect(ok(d.docker(['load', '-i', archive]))).toBe(`Loaded image: ${tag}\n`);
      expect(ok(d.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim()).toBe(id);
      const back = path.join(work, 'from-dockerd.tar');
      ok(d.docker(['save', '-o', back, tag]));
      const fresh = await startEngine('image-archive-dockerd');
      try {
        expect(ok(fresh.docker(['load', '-i', back]))).toBe(`Loaded image: ${tag}\n`);
        expect((await tags(fresh))[`docker.io/${tag}`]).toBe(id);
      } finally {
        await fresh.stop();
      }
    } finally {
      d.docker(['rmi', tag]);
    }
  });
});
