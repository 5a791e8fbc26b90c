import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { isDigest, type Digest } from '../../util/digest.ts';
import { RegistryError } from '../distribution.ts';
import { send, type HubRequest } from './context.ts';
import { draftRepo, linkBlob } from './hub-state.ts';

/** `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`: only blobs linked into this repository exist here. */
export async function blobRoute(r: HubRequest, digestText: string): Promise<void> {
  const digest = requireDigest(digestText);
  const repo = r.hub.state.repo(r.name);
  if (!repo?.blobs.includes(digest) || !(await r.hub.store.blobs.has(digest))) throw new RegistryError('BLOB_UNKNOWN', digest);
  if (r.req.method === 'DELETE') {
    await r.hub.state.update((draft) => {
      const d = draftRepo(draft, r.name);
      d.blobs = d.blobs.filter((b) => b !== digest);
    });
    send(r.res, 202, { 'Docker-Content-Digest': digest });
    return;
  }
  const size = await r.hub.store.blobs.size(digest);
  const headers = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, Etag: `"${digest}"`, 'Accept-Ranges': 'bytes' };
  const range = parseRange(r.req.headers.range, size);
  if (r.req.method === 'HEAD' || size === 0) {
    send(r.res, 200, { ...headers, 'Content-Length': size });
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  r.res.writeHead(range ? 206 : 200, {
    ...headers,
    'Docker-Distribution-Api-Version': 'registry/2.0',
    'Content-Length': end - start + 1,
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  await pipeline(createReadStream(r.hub.store.blobs.path(digest), { start, end }), r.res).catch(() => r.res.destroy());
}

/** `bytes=a-b` / `bytes=a-` → inclusive offsets; anything unsatisfiable is 416. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (!m || start > end || start >= size) throw new RegistryError('RANGE_INVALID', null, `invalid range ${header.slice(0, 100)} for a blob of ${size} bytes`);
  return [start, end];
}

/** `POST /v2/<name>/blobs/uploads/`: a new session, a cross-repository mount, or a monolithic upload. */
export async function startUpload(r: HubRequest): Promise<void> {
  const mount = r.url.searchParams.get('mount');
  const from = r.url.searchParams.get('from');
  if (mount && from && isDigest(mount) && (await tryMount(r, mount, from))) return;
  const uuid = await r.hub.uploads.open(r.name);
  const digest = r.url.searchParams.get('digest');
  if (digest !== null) {
    await r.hub.uploads.append(r.name, uuid, r.req);
    await finishUpload(r, uuid, requireDigest(digest));
    return;
  }
  r.req.resume();
  sendUploadStatus(r, uuid, 202, 0);
}

async function tryMount(r: HubRequest, digest: Digest, from: string): Promise<boolean> {
  const source = r.hub.state.repo(from);
  if (!source?.blobs.includes(digest) || !(await r.hub.store.blobs.has(digest))) return false;
  r.req.resume();
  await r.hub.state.update((draft) => linkBlob(draftRepo(draft, r.name), digest));
  send(r.res, 201, { Location: `${r.hub.baseUrl}/v2/${r.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  return true;
}

/** `GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<uuid>`. */
export async function uploadRoute(r: HubRequest, uuid: string): Promise<void> {
  const method = r.req.method;
  if (method === 'GET' || method === 'HEAD') {
    sendUploadStatus(r, uuid, 204, r.hub.uploads.size(r.name, uuid));
  } else if (method === 'PATCH') {
    const size = await r.hub.uploads.append(r.name, uuid, r.req, contentRangeStart(r.req.headers['content-range']));
    sendUploadStatus(r, uuid, 202, size);
  } else if (method === 'PUT') {
    const digest = requireDigest(r.url.searchParams.get('digest') ?? '');
    await r.hub.uploads.append(r.name, uuid, r.req);
    await finishUpload(r, uuid, digest);
  } else if (method === 'DELETE') {
    await r.hub.uploads.cancel(r.name, uuid);
    send(r.res, 204, { 'Docker-Upload-UUID': uuid });
  } else {
    throw new RegistryError('UNSUPPORTED');
  }
}

async function finishUpload(r: HubRequest, uuid: string, digest: Digest): Promise<void> {
  const { store, state, uploads } = r.hub;
  // Shared GC lock from the blob landing in the store until a repository links it.
  await store.gcLock.shared(async () => {
    await uploads.finish(r.name, uuid, digest, store.blobs);
    await state.update((draft) => linkBlob(draftRepo(draft, r.name), digest));
  });
  send(r.res, 201, { Location: `${r.hub.baseUrl}/v2/${r.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function sendUploadStatus(r: HubRequest, uuid: string, status: number, size: number): void {
  send(r.res, status, {
    Location: `${r.hub.baseUrl}/v2/${r.name}/blobs/uploads/${uuid}`,
    Range: `0-${Math.max(0, size - 1)}`,
    'Docker-Upload-UUID': uuid,
  });
}

function contentRangeStart(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw new RegistryError('RANGE_INVALID', null, `invalid Content-Range ${header.slice(0, 100)}`);
  return Number(m[1]);
}

function requireDigest(text: string): Digest {
  if (!isDigest(text)) throw new RegistryError('DIGEST_INVALID', text.slice(0, 100), 'invalid digest');
  return text;
}
