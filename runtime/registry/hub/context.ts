import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../../store/store.ts';
import { RegistryError } from '../distribution.ts';
import type { HubAuth } from './auth.ts';
import type { HubState } from './hub-state.ts';
import type { Uploads } from './uploads.ts';

/** What every hub handler works with. */
export interface HubContext {
  store: Store;
  state: HubState;
  auth: HubAuth;
  uploads: Uploads;
  /** `http://127.0.0.1:<port>`: the hub's own address, for Location headers and the token realm. */
  baseUrl: string;
  /** Largest blob an upload may reach. */
  maxBlobBytes: number;
}

/** One request, with the repository name parsed out of the path when there is one. */
export interface HubRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  hub: HubContext;
  name: string;
  /** The path after `/v2/<name>/`. */
  rest: string;
}

const API_HEADER = { 'Docker-Distribution-Api-Version': 'registry/2.0' };

export function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string | Buffer): void {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { ...API_HEADER, 'Content-Length': bytes?.length ?? 0, ...headers });
  // HEAD answers carry the headers of the GET but never a body.
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, `${JSON.stringify(value)}\n`);
}

export function sendRegistryError(res: ServerResponse, err: RegistryError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = `${JSON.stringify(err.body())}\n`;
  res.writeHead(err.status, { ...API_HEADER, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Read a small body (manifests, token forms) into memory, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new RegistryError('SIZE_INVALID', null, `body exceeds ${limit} bytes`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RegistryError('SIZE_INVALID', null, `body exceeds ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `n`/`last` pagination with the `Link: <…>; rel="next"` header (builder-facts §5.6). */
export function paginate(items: string[], url: URL): { page: string[]; link?: string } {
  const nText = url.searchParams.get('n');
  const last = url.searchParams.get('last');
  let rest = last ? items.filter((i) => i > last) : items;
  if (nText === null) return { page: rest };
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 0) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nText });
  const page = rest.slice(0, n);
  rest = rest.slice(n);
  if (page.length === 0 || rest.length === 0) return { page };
  const next = `${url.pathname}?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}`;
  return { page, link: `<${next}>; rel="next"` };
}
