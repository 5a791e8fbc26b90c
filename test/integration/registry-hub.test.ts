import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../runtime/catalog/catalog.ts';
import { Hub } from '../../runtime/registry/hub/hub.ts';
import { publishCatalog } from '../../runtime/registry/hub/seed.ts';
import type { Store } from '../../runtime/store/store.ts';
import { sha256 } from '../../runtime/util/digest.ts';
import { CATALOG_DIR } from '../helpers/engine.ts';
import { tempStore } from '../helpers/store.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The distribution v2 API of the embedded hub, spoken raw over HTTP (builder-facts §5). */
describe('embedded hub: distribution v2 over HTTP', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let hub: Hub;
  let base: string;
  let stateDir: string;

  const token = async (scopes: string[], user?: [string, string]) => {
    const url = new URL(`${base}/token`);
    url.searchParams.set('service', 'layerlab-hub');
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = user ? { Authorization: `Basic ${Buffer.from(user.join(':')).toString('base64')}` } : {};
    return fetch(url, { headers });
  };
  const bearer = async (scopes: string[], user?: [string, string]) => {
    const res = await token(scopes, user);
    expect(res.status).toBe(200);
    return { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
  };
  const alice: [string, string] = ['alice', 'alice-pw'];
  const errorCode = async (res: Response) => ((await res.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;

  /** Upload bytes in one PATCH and a PUT, as docker 20.10 does; returns the final response. */
  const upload = async (repo: string, bytes: Buffer, auth: Record<string, string>, digest = sha256(bytes)) => {
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
    expect(start.status).toBe(202);
    const patch = await fetch(start.headers.get('location')!, { method: 'PATCH', headers: auth, body: bytes });
    expect(patch.status).toBe(202);
    return fetch(`${patch.headers.get('location')!}?digest=${encodeURIComponent(digest)}`, { method: 'PUT', headers: auth });
  };

  beforeAll(async () => {
    ({ store, cleanup } = await tempStore());
    stateDir = path.join(store.root, 'registry');
    hub = await Hub.start({ store, stateDir, port: 0, selfRegister: true, maxBlobBytes: 64 * 1024 });
    await publishCatalog(hub.ctx, await Catalog.open(CATALOG_DIR));
    base = `http://${hub.address}`;
    // First login registers alice; bob too.
    expect((await token([], alice)).status).toBe(200);
    expect((await token([], ['bob', 'bob-pw'])).status).toBe(200);
  });

  afterAll(async () => {
    await hub?.close();
    await cleanup?.();
  });

  it('the version check asks for a token, with the API version header; a token opens it', async () => {
    const res = await fetch(`${base}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${base}/token",service="layerlab-hub"`);
    expect(await errorCode(res)).toMatchObject({ code: 'UNAUTHORIZED', message: 'authentication required' });
    expect((await fetch(`${base}/v2/`, { headers: await bearer([]) })).status).toBe(200);
  });

  it('a wrong password gets the token server error docker prints; a registered name is not re-registered', async () => {
    const res = await token([], ['alice', 'nope']);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ details: 'incorrect username or password' });
    expect((await token([], alice)).status).toBe(200);
    const stored = JSON.parse(await fs.readFile(path.join(stateDir, 'hub.json'), 'utf8')) as { users: Record<string, { hash: string }> };
    expect(Object.keys(stored.users).sort()).toEqual(['alice', 'bob']);
    expect(JSON.stringify(stored)).not.toContain('alice-pw');
  });

  it('serves the catalog as library/*: manifest digest over the exact bytes, HEAD without a body, tags and catalog', async () => {
    const auth = await bearer(['repository:library/busybox:pull']);
    const res = await fetch(`${base}/v2/library/busybox/manifests/latest`, { headers: { ...auth, Accept: DOCKER_MANIFEST } });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-type')).toBe(DOCKER_MANIFEST);
    expect(res.headers.get('docker-content-digest')).toBe(sha256(body));
    const head = await fetch(`${base}/v2/library/busybox/manifests/latest`, { method: 'HEAD', headers: auth });
    expect(head.headers.get('docker-content-digest')).toBe(sha256(body));
    expect(head.headers.get('content-length')).toBe(String(body.length));
    const tags = await fetch(`${base}/v2/library/busybox/tags/list`, { headers: auth });
    expect(await tags.json()).toEqual({ name: 'library/busybox', tags: ['latest'] });
    const missing = await fetch(`${base}/v2/library/busybox/manifests/nosuch`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nosuch' } }] });
    const cat = await fetch(`${base}/v2/_catalog?n=1`, { headers: await bearer(['registry:catalog:*']) });
    expect(((await cat.json()) as { repositories: string[] }).repositories).toHaveLength(1);
    expect(cat.headers.get('link')).toMatch(/^<\/v2\/_catalog\?last=library%2F[a-z-]+&n=1>; rel="next"$/);
  });

  it('chunked upload with in-order Content-Range, status, out-of-order refused, final chunk in the PUT, Range reads', async () => {
    const auth = await bearer(['repository:alice/app:push,pull'], alice);
    const data = Buffer.from('0123456789abcdefghij');
    const start = await fetch(`${base}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: auth });
    const loc = start.headers.get('location')!;
    expect(start.headers.get('range')).toBe('0-0');
    const p1 = await fetch(loc, { method: 'PATCH', headers: { ...auth, 'Content-Range': '0-9' }, body: data.subarray(0, 10) });
    expect([p1.status, p1.headers.get('range')]).toEqual([202, '0-9']);
    const bad = await fetch(loc, { method: 'PATCH', headers: { ...auth, 'Content-Range': '15-19' }, body: data.subarray(15) });
    expect(bad.status).toBe(416);
    // The refused chunk wrote nothing: the session is still at 0-9.
    const status = await fetch(loc, { headers: auth });
    expect([status.status, status.headers.get('range'), status.headers.get('docker-upload-uuid')]).toEqual([204, '0-9', loc.split('/').pop()]);
    const put = await fetch(`${loc}?digest=${sha256(data)}`, { method: 'PUT', headers: auth, body: data.subarray(10) });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sha256(data));
    const range = await fetch(`${base}/v2/alice/app/blobs/${sha256(data)}`, { headers: { ...auth, Range: 'bytes=2-5' } });
    expect([range.status, range.headers.get('content-range'), await range.text()]).toEqual([206, 'bytes 2-5/20', '2345']);
  });

  it('monolithic POST, digest mismatch (nothing kept), cancel, oversized upload, cross-repository mount', async () => {
    const auth = await bearer(['repository:alice/mono:push,pull', 'repository:library/busybox:pull'], alice);
    const bytes = Buffer.from('monolithic blob');
    const mono = await fetch(`${base}/v2/alice/mono/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', headers: auth, body: bytes });
    expect(mono.status).toBe(201);
    const wrong = Buffer.from('not what the digest says');
    const mismatch = await upload('alice/mono', wrong, auth, sha256('something else'));
    expect(mismatch.status).toBe(400);
    expect((await errorCode(mismatch)).code).toBe('DIGEST_INVALID');
    expect(await store.blobs.has(sha256(wrong))).toBe(false);
    const start = await fetch(`${base}/v2/alice/mono/blobs/uploads/`, { method: 'POST', headers: auth });
    const loc = start.headers.get('location')!;
    expect((await fetch(loc, { method: 'DELETE', headers: auth })).status).toBe(204);
    const gone = await fetch(loc, { headers: auth });
    expect([gone.status, (await errorCode(gone)).code]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
    const bigStart = await fetch(`${base}/v2/alice/mono/blobs/uploads/`, { method: 'POST', headers: auth });
    const big = await fetch(bigStart.headers.get('location')!, { method: 'PATCH', headers: auth, body: Buffer.alloc(100 * 1024, 1) });
    expect([big.status, (await errorCode(big)).code]).toEqual([413, 'SIZE_INVALID']);
    expect((await fetch(bigStart.headers.get('location')!, { headers: auth })).status).toBe(404);
    expect(await store.blobs.has(sha256(Buffer.alloc(100 * 1024, 1)))).toBe(false);
    const manifest = (await (await fetch(`${base}/v2/library/busybox/manifests/latest`, { headers: auth })).json()) as { layers: Array<{ digest: string }> };
    const layer = manifest.layers[0]!.digest;
    const mount = await fetch(`${base}/v2/alice/mono/blobs/uploads/?mount=${layer}&from=library%2Fbusybox`, { method: 'POST', headers: auth });
    expect([mount.status, mount.headers.get('docker-content-digest')]).toEqual([201, layer]);
    const unknown = await fetch(`${base}/v2/alice/mono/blobs/uploads/?mount=${sha256('x')}&from=library%2Fbusybox`, { method: 'POST', headers: auth });
    expect(unknown.status).toBe(202);
    expect((await fetch(`${base}/v2/alice/mono/blobs/${layer}`, { method: 'HEAD', headers: auth })).status).toBe(200);
  });

  it('manifests: missing blobs refused and invisible; PUT by tag; digest mismatch; OCI needs an OCI Accept; delete by digest', async () => {
    const auth = await bearer(['repository:alice/img:push,pull,delete'], alice);
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    expect((await upload('alice/img', config, auth)).status).toBe(201);
    const manifestOf = (mediaType: string, layers: unknown[]) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) }, layers }, null, 3));
    const dangling = manifestOf(DOCKER_MANIFEST, [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 3, digest: sha256('nope') }]);
    const refused = await fetch(`${base}/v2/alice/img/manifests/v1`, { method: 'PUT', headers: { ...auth, 'Content-Type': DOCKER_MANIFEST }, body: dangling });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: sha256('nope') }] });
    expect((await fetch(`${base}/v2/alice/img/manifests/v1`, { headers: auth })).status).toBe(404);
    const good = manifestOf(DOCKER_MANIFEST, []);
    const put = await fetch(`${base}/v2/alice/img/manifests/v1`, { method: 'PUT', headers: { ...auth, 'Content-Type': DOCKER_MANIFEST }, body: good });
    expect([put.status, put.headers.get('docker-content-digest')]).toEqual([201, sha256(good)]);
    const byWrongDigest = await fetch(`${base}/v2/alice/img/manifests/${sha256('x')}`, { method: 'PUT', headers: { ...auth, 'Content-Type': DOCKER_MANIFEST }, body: good });
    expect((await errorCode(byWrongDigest)).code).toBe('DIGEST_INVALID');
    const oci = manifestOf(OCI_MANIFEST, []);
    expect((await fetch(`${base}/v2/alice/img/manifests/oci`, { method: 'PUT', headers: { ...auth, 'Content-Type': OCI_MANIFEST }, body: oci })).status).toBe(201);
    const hidden = await fetch(`${base}/v2/alice/img/manifests/oci`, { headers: { ...auth, Accept: DOCKER_MANIFEST } });
    expect([hidden.status, (await errorCode(hidden)).message]).toEqual([404, 'OCI manifest found, but accept header does not support OCI manifests']);
    const shown = await fetch(`${base}/v2/alice/img/manifests/oci`, { headers: { ...auth, Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` } });
    expect([shown.status, shown.headers.get('content-type')]).toEqual([200, OCI_MANIFEST]);
    expect((await fetch(`${base}/v2/alice/img/manifests/oci`, { method: 'DELETE', headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/v2/alice/img/manifests/${sha256(oci)}`, { method: 'DELETE', headers: auth })).status).toBe(202);
    expect(await (await fetch(`${base}/v2/alice/img/tags/list`, { headers: auth })).json()).toEqual({ name: 'alice/img', tags: ['v1'] });
    const page = await fetch(`${base}/v2/alice/img/tags/list?n=0`, { headers: auth });
    expect([await page.json(), page.headers.get('link')]).toEqual([{ name: 'alice/img', tags: [] }, null]);
  });

  it('push only under your own name; anonymous clients only pull; bad names are NAME_INVALID', async () => {
    const bob = await bearer(['repository:alice/app:push,pull'], ['bob', 'bob-pw']);
    const denied = await fetch(`${base}/v2/alice/app/blobs/uploads/`, { method: 'POST', headers: bob });
    expect([denied.status, await errorCode(denied)]).toEqual([403, { code: 'DENIED', message: 'requested access to the resource is denied', detail: [{ Type: 'repository', Class: '', Name: 'alice/app', Action: 'push' }] }]);
    const anon = await bearer(['repository:library/busybox:push,pull']);
    expect((await fetch(`${base}/v2/library/busybox/blobs/uploads/`, { method: 'POST', headers: anon })).status).toBe(403);
    const noToken = await fetch(`${base}/v2/alice/app/blobs/uploads/`, { method: 'POST' });
    expect(noToken.headers.get('www-authenticate')).toContain('scope="repository:alice/app:push,pull"');
    const bad = await fetch(`${base}/v2/Alice/App/tags/list`, { headers: anon });
    expect(bad.status).toBe(400);
    expect((await errorCode(bad)).code).toBe('NAME_INVALID');
  });

  it('v1 search finds names and descriptions; garbage collection keeps hub content; state survives a restart', async () => {
    const search = (await (await fetch(`${base}/v1/search?q=busy&n=25`)).json()) as { results: Array<{ name: string; is_official: boolean }> };
    expect(search.results).toContainEqual(expect.objectContaining({ name: 'busybox', is_official: true }));
    const byDescription = (await (await fetch(`${base}/v1/search?q=static`)).json()) as { results: Array<{ name: string }> };
    expect(byDescription.results.map((r) => r.name)).toContain('busybox');
    const data = sha256('0123456789abcdefghij');
    await store.collectGarbage();
    expect(await store.blobs.has(data)).toBe(true);
    await hub.close();
    hub = await Hub.start({ store, stateDir, port: 0, selfRegister: false });
    base = `http://${hub.address}`;
    const auth = await bearer(['repository:alice/img:pull'], alice);
    expect((await fetch(`${base}/v2/alice/img/manifests/v1`, { headers: auth })).status).toBe(200);
    // Self-registration off: an unknown name cannot log in.
    expect((await token([], ['carol', 'carol-pw'])).status).toBe(401);
  });
});
