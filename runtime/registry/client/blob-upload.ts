import { createReadStream } from 'node:fs';
import type { Digest } from '../../util/digest.ts';
import type { RegistrySession } from './session.ts';

export type UploadOutcome = 'exists' | 'mounted' | 'pushed';

export interface BlobSource {
  digest: Digest;
  size: number;
  /** Local file holding the blob. */
  file: string;
}

/**
 * Make a blob present in `repo`: HEAD first ("Layer already exists"), then a cross-repository mount from
 * each candidate ("Mounted from …"), else POST + PATCH (streamed) + PUT?digest= (builder-facts §5.2–5.3).
 */
export async function ensureBlob(
  session: RegistrySession,
  repo: string,
  blob: BlobSource,
  opts: { mountFrom?: string[]; onBytes?: (n: number) => void } = {},
): Promise<{ outcome: UploadOutcome; from?: string }> {
  const push = `repository:${repo}:push,pull`;
  const head = await session.request('HEAD', `/v2/${repo}/blobs/${blob.digest}`, { scope: [push], expect: [404] });
  if (head.ok) return { outcome: 'exists' };
  let location: string | undefined;
  for (const from of opts.mountFrom ?? []) {
    const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`;
    const res = await session.request('POST', `/v2/${repo}/blobs/uploads/?${query}`, { scope: [push, `repository:${from}:pull`], headers: { 'Content-Length': '0' } });
    if (res.status === 201) return { outcome: 'mounted', from };
    location = res.headers.get('location') ?? undefined;
    if (location) break;
  }
  if (!location) {
    const res = await session.request('POST', `/v2/${repo}/blobs/uploads/`, { scope: [push], headers: { 'Content-Length': '0' } });
    location = res.headers.get('location') ?? undefined;
    if (!location) throw new Error(`the registry gave no upload location for ${repo}`);
  }
  await session.prepare([push]);
  const patch = await session.request('PATCH', absolute(session, location), {
    scope: [push],
    headers: { 'Content-Type': 'application/octet-stream' },
    body: counted(blob.file, opts.onBytes),
  });
  const next = patch.headers.get('location') ?? location;
  const put = new URL(absolute(session, next));
  put.searchParams.set('digest', blob.digest);
  await session.request('PUT', put.toString(), { scope: [push], headers: { 'Content-Length': '0' } });
  return { outcome: 'pushed' };
}

/** Locations may be relative (OCI) or absolute (distribution 2.8): resolve against the registry. */
function absolute(session: RegistrySession, location: string): string {
  return new URL(location, session.url('/')).toString();
}

async function* counted(file: string, onBytes?: (n: number) => void): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of createReadStream(file)) {
    sent += (chunk as Buffer).length;
    onBytes?.(sent);
    yield chunk as Buffer;
  }
}
