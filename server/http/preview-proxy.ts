import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { dialInNetns } from '../../runtime/index.ts';

/** Request headers never forwarded: hop-by-hop ones, and the learner's session cookie (the app must not see it). */
const DROP_REQUEST = new Set(['cookie', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'origin', 'referer']);
const DROP_RESPONSE = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding', 'content-security-policy', 'x-frame-options']);
const UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * What the learner's own web app runs as in the browser: a sandboxed document (opaque origin), so its
 * scripts can neither read layerlab's cookie nor call layerlab's API as the learner, even though the
 * preview is served from layerlab's origin.
 */
const PREVIEW_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

/** Forward one HTTP request to `localhost:<port>` inside the sandbox's network namespace. */
export function proxyHttp(netns: string, port: number, upstreamPath: string, req: IncomingMessage, res: ServerResponse): void {
  const upstream = http.request(
    {
      // http applies `timeout` only through the socket createConnection returns; no `agent` with it, or http
      // would ignore createConnection and connect on the server's own loopback.
      createConnection: () => dialInNetns(netns, port).setTimeout(UPSTREAM_TIMEOUT_MS) as never,
      method: req.method,
      path: upstreamPath,
      headers: { ...forwardHeaders(req.headers), host: `localhost:${port}` },
    },
    (ures) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !DROP_RESPONSE.has(k)) headers[k] = v;
      headers['content-security-policy'] = PREVIEW_CSP;
      res.writeHead(ures.statusCode ?? 502, headers);
      ures.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.on('error', (err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': PREVIEW_CSP });
    res.end(`Nothing answered on localhost:${port} in your sandbox (${err.message}).\nIs a container publishing it? Try: docker ps\n`);
  });
  req.pipe(upstream);
}

/**
 * Forward a WebSocket (or any HTTP/1.1 upgrade) to `localhost:<port>` in the sandbox: once connected, raw
 * bytes both ways; if nothing listens there, a 502 answer instead of a dropped connection.
 */
export function proxyUpgrade(netns: string, port: number, upstreamPath: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const upstream = dialInNetns(netns, port);
  const headers = { ...forwardHeaders(req.headers), host: `localhost:${port}`, connection: 'Upgrade', upgrade: req.headers.upgrade ?? 'websocket' };
  const lines = [`${req.method ?? 'GET'} ${upstreamPath} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined) lines.push(`${k}: ${value}`);
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  const refused = (err: Error) => {
    const body = `Nothing answered on localhost:${port} in your sandbox (${err.message}).\n`;
    if (socket.writable) socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };
  upstream.once('error', refused);
  upstream.once('connect', () => {
    upstream.off('error', refused);
    upstream.on('error', close);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    socket.on('error', close);
    upstream.on('close', close);
    socket.on('close', close);
  });
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || DROP_REQUEST.has(k) || k.startsWith('sec-websocket-extensions')) continue;
    out[k] = v;
  }
  return out;
}
