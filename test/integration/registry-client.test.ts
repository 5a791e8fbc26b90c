import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addEntry } from '../../runtime/archive/tar-writer.ts';
import { DOCKER_LAYER } from '../../runtime/image/media-types.ts';
import { pullImage, pushImage } from '../../runtime/registry/index.ts';
import { Hub } from '../../runtime/registry/hub/hub.ts';
import { Store } from '../../runtime/store/store.ts';
import type { Namespace } from '../../runtime/store/namespace.ts';
import { sha256 } from '../../runtime/util/digest.ts';
import { makeImage, tempStore } from '../helpers/store.ts';

interface Side {
  store: Store;
  ns: Namespace;
  cleanup: () => Promise<void>;
}

async function side(): Promise<Side> {
  const { store, cleanup } = await tempStore();
  return { store, ns: await store.namespace('default'), cleanup };
}

async function tarOf(entries: Array<{ name: string; body: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) await addEntry(pack, { name: e.name, type: 'file', mode: 0o644 }, Buffer.from(e.body));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The engine's registry client against the hub, in-process: verification and all-or-nothing pulls. */
describe('registry client: push and pull with verification', () => {
  let source: Side;
  let hub: Hub;
  let host: string;
  const creds = { username: 'alice', password: 'alice-pw' };
  const sides: Side[] = [];
  const fresh = async () => {
    const s = await side();
    sides.push(s);
    return s;
  };
  /** Nothing of a failed pull may be visible: no tags, no digests, no layers, no scratch files. */
  const expectUntouched = async (s: Side) => {
    expect(s.ns.snapshot().tags).toEqual({});
    expect(s.ns.snapshot().digests).toEqual({});
    expect(s.store.layers.all()).toEqual([]);
    expect((await fs.readdir(s.store.tmpDir)).filter((f) => f.startsWith('pull-'))).toEqual([]);
  };

  /** Publish raw blobs and a manifest in alice/<repo>:v1 over HTTP, as any client could. */
  const publish = async (repo: string, config: Buffer, layers: Buffer[]) => {
    const t = (await (await fetch(`http://${host}/token?scope=repository:alice/${repo}:push,pull`, { headers: { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } })).json()) as { token: string };
    const auth = { Authorization: `Bearer ${t.token}` };
    for (const blob of [config, ...layers]) {
      const res = await fetch(`http://${host}/v2/alice/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: auth, body: blob });
      expect(res.status).toBe(201);
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.length, digest: sha256(l) })),
    };
    const put = await fetch(`http://${host}/v2/alice/${repo}/manifests/v1`, { method: 'PUT', headers: { ...auth, 'Content-Type': manifest.mediaType }, body: JSON.stringify(manifest) });
    expect(put.status).toBe(201);
  };
  const configFor = (diffIds: string[]) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));

  beforeAll(async () => {
    source = await side();
    hub = await Hub.start({ store: source.store, stateDir: path.join(source.store.root, 'registry'), port: 0, selfRegister: true });
    host = hub.address;
  });

  afterAll(async () => {
    await hub?.close();
    for (const s of [source, ...sides]) await s?.cleanup();
  });

  it('pushes an image (basic credentials through the token realm) and pulls it elsewhere with the same blobs and ID', async () => {
    const { id, layers } = await makeImage(source.store, [{ 'a.txt': 'A' }, { 'b.txt': 'B' }]);
    await source.ns.update((d) => {
      d.images[id] = { added: new Date().toISOString() };
      d.tags[`${host}/alice/two:v1`] = id;
    });
    const pushed: string[] = [];
    await pushImage(source, `${host}/alice/two:v1`, { credentials: creds, onProgress: (m) => pushed.push(String(m.status ?? '')) });
    expect(pushed.filter((s) => s === 'Pushed')).toHaveLength(2);
    expect(pushed.filter(Boolean).at(-1)).toMatch(/^v1: digest: sha256:[0-9a-f]{64} size: \d+$/);
    // The layers are stored plain and gzipped for each push: the same bytes again, so the registry has them.
    const repushed: string[] = [];
    await pushImage(source, `${host}/alice/two:v1`, { credentials: creds, onProgress: (m) => repushed.push(String(m.status ?? '')) });
    expect(repushed.filter((s) => s === 'Layer already exists')).toHaveLength(2);
    expect(repushed.filter(Boolean).at(-1)).toBe(pushed.filter(Boolean).at(-1));
    expect((await fs.readdir(source.store.tmpDir)).filter((n) => n.includes('push-layer'))).toEqual([]);
    const target = await fresh();
    const messages: string[] = [];
    const pulledId = await pullImage(target, `${host}/alice/two:v1`, { onProgress: (m) => messages.push(`${m.id ?? ''} ${String(m.status)}`) });
    expect(pulledId).toBe(id);
    // Stored plain here, the layers travel gzip-compressed and arrive as the same diffs.
    expect(target.store.layers.all().map((l) => l.diffId).sort()).toEqual(layers.map((l) => l.diffId).sort());
    expect(target.store.layers.all().map((l) => l.blob.mediaType)).toEqual([DOCKER_LAYER, DOCKER_LAYER]);
    expect(messages.filter((m) => m.endsWith('Pull complete'))).toHaveLength(2);
    expect(messages.at(-1)).toBe(` Status: Downloaded newer image for ${host}/alice/two:v1`);
    expect(target.ns.lookupTag(`${host}/alice/two:v1`)).toBe(id);
    expect(Object.keys(target.ns.snapshot().digests)[0]).toMatch(new RegExp(`^${host}/alice/two@sha256:`));
  });

  it('a layer whose bytes do not match its digest fails the pull and leaves nothing', async () => {
    const layer = gzipSync(await tarOf([{ name: 'x.txt', body: 'x' }]));
    const config = configFor([sha256(await tarOf([{ name: 'x.txt', body: 'x' }]))]);
    await publish('corrupt', config, [layer]);
    // Tamper with the stored blob behind the hub's back.
    await fs.writeFile(source.store.blobs.path(sha256(layer)), gzipSync(Buffer.from('tampered')));
    const target = await fresh();
    await expect(pullImage(target, `${host}/alice/corrupt:v1`)).rejects.toThrow(`filesystem layer verification failed for digest ${sha256(layer)}`);
    await expectUntouched(target);
  });

  it('a layer that does not match the config diff ID, and a layer with ../ paths, are refused with nothing left behind', async () => {
    const plain = await tarOf([{ name: 'y.txt', body: 'y' }]);
    await publish('wrongdiff', configFor([sha256('something else')]), [gzipSync(plain)]);
    const target = await fresh();
    await expect(pullImage(target, `${host}/alice/wrongdiff:v1`)).rejects.toThrow(/does not match its diff ID/);
    await expectUntouched(target);
    const evil = await tarOf([{ name: '../../escape.txt', body: 'out' }]);
    await publish('evil', configFor([sha256(evil)]), [gzipSync(evil)]);
    await expect(pullImage(target, `${host}/alice/evil:v1`)).rejects.toThrow(/escape\.txt/);
    await expectUntouched(target);
  });

  it('a blob past the store limit is cut off; a missing tag says so; -a pulls every tag', async () => {
    const small = await Store.open(path.join((await fresh()).store.root, 'small'), { maxEntries: 100, maxBytes: 64 });
    const target: Side = { store: small, ns: await small.namespace('default'), cleanup: async () => undefined };
    const big = await tarOf([{ name: 'big.txt', body: 'z'.repeat(4096) }]);
    await publish('big', configFor([sha256(big)]), [gzipSync(big, { level: 0 })]);
    await expect(pullImage(target, `${host}/alice/big:v1`)).rejects.toThrow(/larger than the limit of 64 bytes/);
    await expectUntouched(target);
    await expect(pullImage(target, `${host}/alice/big:nosuch`)).rejects.toThrow(`manifest for ${host}/alice/big:nosuch not found: manifest unknown: manifest unknown`);
    const all = await fresh();
    const statuses: string[] = [];
    await pullImage(all, `${host}/alice/two`, { onProgress: (m) => statuses.push(String(m.status)) });
    expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${host}/alice/two`);
  });

  it('never contacts link-local (metadata) addresses as registries', async () => {
    const target = await fresh();
    await expect(pullImage(target, '169.254.169.254/latest/meta:1')).rejects.toThrow('refusing to contact a link-local address as a registry: 169.254.169.254');
    await expectUntouched(target);
  });

  it('an OCI index resolves to its linux/amd64 manifest; Digest and RepoDigests name the index', async () => {
    const t = (await (await fetch(`http://${host}/token?scope=repository:alice/multi:push,pull`, { headers: { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } })).json()) as { token: string };
    const auth = { Authorization: `Bearer ${t.token}` };
    const layerFor = async (text: string) => {
      const plain = await tarOf([{ name: 'arch.txt', body: text }]);
      return { plain, gz: gzipSync(plain) };
    };
    const put = async (ref: string, mediaType: string, doc: unknown) => {
      const body = Buffer.from(JSON.stringify(doc));
      expect((await fetch(`http://${host}/v2/alice/multi/manifests/${ref}`, { method: 'PUT', headers: { ...auth, 'Content-Type': mediaType }, body })).status).toBe(201);
      return { mediaType, digest: sha256(body), size: body.length };
    };
    const manifests = [];
    for (const arch of ['arm64', 'amd64']) {
      const layer = await layerFor(arch);
      const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer.plain)] } }));
      for (const blob of [config, layer.gz]) await fetch(`http://${host}/v2/alice/multi/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: auth, body: blob });
      const m = await put(`${arch}-only`, 'application/vnd.oci.image.manifest.v1+json', {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256(config) },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: layer.gz.length, digest: sha256(layer.gz) }],
      });
      manifests.push({ ...m, platform: { architecture: arch, os: 'linux' }, config: sha256(config) });
    }
    const index = await put('v1', 'application/vnd.oci.image.index.v1+json', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: manifests.map(({ mediaType, digest, size, platform }) => ({ mediaType, digest, size, platform })),
    });
    const target = await fresh();
    const statuses: string[] = [];
    const id = await pullImage(target, `${host}/alice/multi:v1`, { onProgress: (m) => statuses.push(String(m.status)) });
    expect(id).toBe(manifests[1]!.config);
    expect(statuses).toContain(`Digest: ${index.digest}`);
    expect(target.ns.lookupDigest(`${host}/alice/multi@${index.digest}`)).toBe(id);
  });
});
