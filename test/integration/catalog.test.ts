import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELLO_MESSAGE } from '../../runtime/catalog/hello-world.ts';
import { LAYER_SIZE_ANNOTATION } from '../../runtime/catalog/layout.ts';
import { BUILT_FROM_LABEL, PACKAGES_LABEL, RECIPE_LABEL } from '../../runtime/catalog/recipe.ts';
import { CATALOG_DIR, startEngine } from '../helpers/engine.ts';
import { blobPath, readLayer, readLayoutImages, sha256Hex, type LayerEntry, type LayerRead, type LayoutImage } from '../helpers/layout.ts';

// The catalog `npm test` builds in its setup step, at the machine's default place: these tests check what
// setup really produced, byte for byte.
const EXPECTED = [
  'docker.io/library/busybox:latest',
  'docker.io/library/hello-world:latest',
  'docker.io/library/debian:bookworm-slim',
  'docker.io/library/debian:bookworm',
  'docker.io/library/debian:12',
  'docker.io/library/debian:latest',
  'docker.io/library/node:latest',
  'docker.io/library/node:18',
  'docker.io/library/node:18-bookworm-slim',
  'docker.io/library/python:latest',
  'docker.io/library/python:3',
  'docker.io/library/python:3.11',
  'docker.io/library/python:slim',
  'docker.io/library/python:3.11-slim',
  'docker.io/library/nginx:latest',
  'docker.io/library/nginx:1.22',
  'docker.io/library/nginx:bookworm',
  'docker.io/library/registry:2',
  'docker.io/library/registry:latest',
  'docker.io/layerlab/shell:latest',
];
/** Built by layerlab's builder from runtime/catalog/dockerfiles/ on debian:bookworm-slim (catalog-layered.test.ts). */
const FROM_DOCKERFILES = ['node', 'python', 'nginx', 'registry', 'layerlab/shell'];
/** System images: in the layout, never in a namespace's `docker images`. */
const SYSTEM = ['docker.io/layerlab/shell:latest'];

let images: LayoutImage[] = [];
/** What an independent tar reader found in each distinct image's layers, by manifest digest. */
const reads = new Map<string, LayerRead[]>();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'layerlab-catalog-test-'));

function image(ref: string): LayoutImage {
  const found = images.find((i) => i.ref === `docker.io/library/${ref}`);
  if (!found) throw new Error(`${ref} is not in the catalog`);
  return found;
}

/** The entries of an image's (single) layer, by name. */
function entries(ref: string): Map<string, LayerEntry> {
  const read = reads.get(image(ref).manifestDigest) ?? [];
  return new Map(read.flatMap((r) => r.entries).map((e) => [e.name, e]));
}

beforeAll(async () => {
  if (!existsSync(path.join(CATALOG_DIR, 'index.json'))) {
    throw new Error(`no image catalog at ${CATALOG_DIR}: run \`npm run setup\` (or \`npx tsx server/cli.ts setup\`) first`);
  }
  images = await readLayoutImages(CATALOG_DIR);
  for (const img of images) {
    if (reads.has(img.manifestDigest)) continue; // an alias of an image already read
    const keep = img.ref.endsWith('/hello-world:latest') ? ['hello'] : [];
    reads.set(img.manifestDigest, await Promise.all(img.manifest.layers.map((l) => readLayer(blobPath(CATALOG_DIR, l.digest), keep))));
  }
}, 120_000);
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('the offline image catalog', () => {
  it('lists exactly the expected names', () => {
    expect(images.map((i) => i.ref).sort()).toEqual([...EXPECTED].sort());
  });

  it('has manifests, configs and layers whose digests match their bytes, and diff_ids of the real tars', async () => {
    for (const img of images) {
      expect(sha256Hex(await fs.readFile(blobPath(CATALOG_DIR, img.manifestDigest)))).toBe(img.manifestDigest);
      expect(sha256Hex(img.configBytes)).toBe(img.manifest.config.digest);
      expect(img.configBytes.length).toBe(img.manifest.config.size);
      expect(img.manifest.layers).toHaveLength(img.config.rootfs.diff_ids.length);
      for (const [i, layer] of img.manifest.layers.entries()) {
        const bytes = await fs.readFile(blobPath(CATALOG_DIR, layer.digest));
        expect(sha256Hex(bytes)).toBe(layer.digest);
        expect(bytes.length).toBe(layer.size);
        const read = reads.get(img.manifestDigest)![i]!;
        expect(read.diffId).toBe(img.config.rootfs.diff_ids[i]);
        // Docker's layer size (moby's directory.Size): file content plus symlink target lengths.
        const content = read.entries.reduce((n, e) => n + (e.type === 'file' ? e.size : e.type === 'symlink' ? Buffer.byteLength(e.linkname ?? '') : 0), 0);
        expect(layer.annotations?.[LAYER_SIZE_ANNOTATION]).toBe(String(content));
      }
    }
  });

  it('gives every image an honest config: PATH, Cmd, labels, history per layer', () => {
    const cmds: Record<string, string[]> = {
      busybox: ['sh'],
      'hello-world': ['/hello'],
      debian: ['bash'],
      node: ['node'],
      python: ['python3'],
      nginx: ['nginx', '-g', 'daemon off;'],
      registry: ['/etc/docker/registry/config.yml'],
      'layerlab/shell': ['bash', '-l'],
    };
    for (const img of images) {
      const repo = img.ref.replace(/^docker\.io\/(library\/)?|:.*$/g, '');
      expect(img.config.architecture).toBe('amd64');
      expect(img.config.os).toBe('linux');
      expect(img.config.config?.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      expect(img.config.config?.Cmd).toEqual(cmds[repo]);
      const labels = img.config.config?.Labels ?? {};
      expect(labels[BUILT_FROM_LABEL]).toBeTruthy();
      expect(labels[RECIPE_LABEL]).toBeTruthy();
      if (repo !== 'hello-world') expect(labels[PACKAGES_LABEL]).toMatch(/^\S+=\S+( \S+=\S+)*$/);
      const history = img.config.history ?? [];
      const layerHistory = history.filter((h) => !h.empty_layer);
      expect(layerHistory).toHaveLength(img.config.rootfs.diff_ids.length);
      if (FROM_DOCKERFILES.includes(repo)) {
        // The base's layer as debian:bookworm-slim has it, then the builder's entries (checked in catalog-layered).
        expect(layerHistory[0]?.created_by).toMatch(/^mmdebstrap --variant=minbase /);
        expect(history.at(-1)).toMatchObject({ created_by: `/bin/sh -c #(nop)  CMD [${cmds[repo]!.map((a) => JSON.stringify(a)).join(' ')}]`, empty_layer: true });
        continue;
      }
      const made: Record<string, string> = {
        busybox: '/bin/busybox from Debian busybox-static ',
        'hello-world': '/hello: a ',
        debian: 'mmdebstrap --variant=minbase ',
      };
      expect(layerHistory.every((h) => (h.created_by ?? '').startsWith(made[repo]!) && h.comment === 'layerlab catalog')).toBe(true);
      expect(history.at(-1)).toMatchObject({ created_by: `CMD ${JSON.stringify(cmds[repo])}`, empty_layer: true });
    }
    expect(image('busybox:latest').config.config?.Labels?.[PACKAGES_LABEL]).toMatch(/^busybox-static=/);
    const debianPackages = image('debian:bookworm').config.config?.Labels?.[PACKAGES_LABEL] ?? '';
    expect(debianPackages).toMatch(/(^| )apt=.* bash=.* dpkg=/);
    // merged /usr by symlinks, as in Docker's image: usrmerge (and the 46 MB of perl it pulls in) is not there
    expect(debianPackages).toContain('usr-is-merged=');
    expect(debianPackages).not.toMatch(/(^| )(usrmerge|perl-modules-5\.36|libperl5\.36)=/);
  });

  it('makes debian:12 and debian:latest aliases of debian:bookworm, and shares only the bookworm-slim layer between images', () => {
    const full = image('debian:bookworm');
    expect(image('debian:12').manifestDigest).toBe(full.manifestDigest);
    expect(image('debian:latest').manifestDigest).toBe(full.manifestDigest);
    const slimLayer = image('debian:bookworm-slim').config.rootfs.diff_ids[0]!;
    const owners = new Map<string, Set<string>>();
    for (const img of images) {
      for (const d of img.config.rootfs.diff_ids) owners.set(d, (owners.get(d) ?? new Set()).add(img.manifestDigest));
    }
    const shared = [...owners].filter(([, o]) => o.size > 1).map(([d]) => d);
    expect(shared).toEqual([slimLayer]);
    expect(owners.get(slimLayer)?.size).toBe(1 + FROM_DOCKERFILES.length); // debian:bookworm-slim and every image built on it
  });

  it('hello-world: /hello, run on the host, prints the greeting and exits 0', async () => {
    // Running a binary from an image on the host is safe here only because this one is our own generated
    // code, read back from the catalog setup built.
    const hello = entries('hello-world:latest').get('hello');
    expect(hello).toMatchObject({ type: 'file', mode: 0o755 });
    expect([...entries('hello-world:latest').keys()]).toEqual(['hello']);
    const file = path.join(tmp, 'hello');
    await fs.writeFile(file, hello!.content!, { mode: 0o755 });
    const out = spawnSync(file, { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(HELLO_MESSAGE);
    expect(out.stdout).toContain('Hello from layerlab!');
    expect(out.stdout).toContain('docker run -it busybox sh');
  });

  it('busybox: /bin/busybox, applet symlinks including sh, and a minimal /etc', () => {
    const e = entries('busybox:latest');
    expect(e.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
    expect(e.get('bin/busybox')!.size).toBeGreaterThan(1_000_000);
    expect(e.get('bin/sh')).toMatchObject({ type: 'symlink', linkname: '/bin/busybox' });
    for (const applet of ['bin/ls', 'bin/cat', 'usr/bin/wget', 'bin/sleep']) expect(e.get(applet)?.linkname).toBe('/bin/busybox');
    expect(e.get('tmp/')).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(e.get('root/')).toMatchObject({ type: 'directory', mode: 0o700 });
    for (const f of ['etc/passwd', 'etc/group', 'etc/shadow']) expect(e.get(f)?.type).toBe('file');
  });

  it('debian: merged /usr, no device nodes, no package lists or host leftovers; slim without docs and man pages', () => {
    for (const ref of ['debian:bookworm', 'debian:bookworm-slim']) {
      const e = entries(ref);
      expect(e.get('bin')).toMatchObject({ type: 'symlink', linkname: 'usr/bin' });
      expect(e.get('usr/bin/bash')?.type).toBe('file');
      expect(e.get('usr/bin/apt-get')?.type).toBe('file');
      const names = [...e.keys()];
      expect(names.filter((n) => n.startsWith('dev/') && n !== 'dev/')).toEqual([]);
      expect(names.filter((n) => n.startsWith('var/lib/apt/lists/') && n !== 'var/lib/apt/lists/')).toEqual([]);
      expect([...e.values()].filter((x) => x.type === 'character-device' || x.type === 'block-device')).toEqual([]);
      expect(e.get('etc/hostname')?.size).toBe(0);
      expect(e.get('etc/resolv.conf')?.size).toBe(0);
      expect(e.get('var/log/dpkg.log')).toBeUndefined();
    }
    const files = (ref: string) => [...entries(ref).values()].filter((x) => x.type === 'file').map((x) => x.name);
    const full = files('debian:bookworm');
    const slim = files('debian:bookworm-slim');
    expect(full.some((n) => n.startsWith('usr/share/man/man1/'))).toBe(true);
    expect(full.some((n) => n.startsWith('usr/share/locale/') && n !== 'usr/share/locale/locale.alias')).toBe(true);
    // dpkg's path-exclude drops files; the empty directories and maintainer-script symlinks stay, as in Docker's slim
    expect(slim.filter((n) => n.startsWith('usr/share/man/'))).toEqual([]);
    expect(slim.filter((n) => n.startsWith('usr/share/locale/'))).toEqual([]); // locale.alias, kept by the filter, is in `locales`
    expect(slim.filter((n) => n.startsWith('usr/share/doc/') && !n.endsWith('/copyright'))).toEqual([]);
    expect(slim).toContain('etc/dpkg/dpkg.cfg.d/99mmdebstrap');
  });
});

describe('the catalog through the real docker CLI', () => {
  it('docker images lists every catalog name in a fresh engine', async () => {
    const engine = await startEngine('catalog-images');
    try {
      const out = engine.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      const names = out.stdout.trim().split('\n').sort();
      expect(names).toEqual(
        EXPECTED.filter((r) => !SYSTEM.includes(r))
          .map((r) => r.replace('docker.io/library/', ''))
          .sort(),
      );
    } finally {
      await engine.stop();
    }
  });
});
