import http from 'node:http';
import { Readable } from 'node:stream';
import { dialInNetns } from '../../network/dial.ts';

/** The `fetch` the registry client uses: the global one, or one that connects inside a sandbox's netns. */
export type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const MAX_REDIRECTS = 10;

/** True for the hosts that mean "this machine": in a sandbox, the sandbox's netns, not the server's. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * The fetch for one engine: plain `fetch`, except that loopback URLs of an engine with a host netns are
 * reached inside that netns (`docker push localhost:5000/x` from a sandbox reaches the registry container
 * the sandbox published, not whatever listens on the server's loopback).
 */
export function fetchFor(hostNetns: string | undefined): Fetch {
  if (hostNetns === undefined) return fetch;
  return (url, init) => {
    const u = new URL(url);
    return isLoopbackHost(u.hostname) ? fetchInNetns(hostNetns, u, init ?? {}, MAX_REDIRECTS) : fetch(url, init);
  };
}

/**
 * A plain-HTTP fetch over dialInNetns: enough of fetch for the registry client (method, headers, a buffer or
 * streamed body, redirects followed, a streamed response body). Loopback registries speak HTTP only.
 */
async function fetchInNetns(netns: string, url: URL, init: RequestInit, redirects: number): Promise<Response> {
  if (url.protocol !== 'http:') throw new TypeError(`fetch failed`, { cause: new Error(`${url.protocol} is not supported for a sandbox's loopback registry`) });
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  const port = Number(url.port || 80);
  const method = (init.method ?? 'GET').toUpperCase();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    // No `agent`: with one, http ignores createConnection and would connect on the server's own loopback.
    const req = http.request(url, { method, headers: headersOf(init.headers), createConnection: () => dialInNetns(netns, port, host) as never }, resolve);
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    const body = init.body as unknown;
    if (body === undefined || body === null) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array) req.end(body);
    else Readable.from(body as AsyncIterable<Uint8Array>).on('error', (err) => req.destroy(err)).pipe(req);
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(status) && location && init.redirect !== 'manual') {
    res.resume();
    if (redirects === 0) throw new TypeError('fetch failed', { cause: new Error('too many redirects') });
    const next = new URL(location, url);
    const again = status === 303 ? { ...init, method: 'GET', body: null } : init;
    return isLoopbackHost(next.hostname) ? fetchInNetns(netns, next, again, redirects - 1) : fetch(next, again);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
  }
  const noBody = method === 'HEAD' || status === 204 || status === 304;
  if (noBody) res.resume();
  const body = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

function headersOf(h: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(h).entries());
}
