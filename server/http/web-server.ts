import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LessonCatalog } from '../lessons/index.ts';
import type { SandboxManager } from '../sandbox/manager.ts';
import { handleApi } from './api-routes.ts';
import { proxyHttp, proxyUpgrade } from './preview-proxy.ts';
import { HttpError, refuseUpgrade, sendJson } from './respond.ts';
import { originAllowed, sessionToken } from './session-guard.ts';
import { serveStatic } from './static-files.ts';
import { TerminalSockets } from './terminal-socket.ts';

export interface WebServerOptions {
  manager: SandboxManager;
  lessons: LessonCatalog;
  /** The built web app (web/dist). */
  staticDir: string;
  /** Origins whose pages may open WebSockets and make state-changing requests. */
  allowedOrigins: ReadonlySet<string>;
  secureCookies: boolean;
  log: (line: string) => void;
}

/** `/preview/<port>/…` (cookie) and `/p/<preview key>/<port>/…` (capability URL, no cookie). */
const PREVIEW = /^\/preview\/(\d{1,5})(\/.*)?$/;
const PREVIEW_KEYED = /^\/p\/([A-Za-z0-9_-]{22})\/(\d{1,5})(\/.*)?$/;

/**
 * The learner-facing HTTP server: the web app, the JSON API, the terminal WebSocket and the port preview.
 * Everything under /api and /preview is per sandbox; the sandbox is found by the session cookie only.
 */
export function createWebServer(opts: WebServerOptions): { server: http.Server; close(): void } {
  const terminals = new TerminalSockets();
  const server = http.createServer({ headersTimeout: 20_000, requestTimeout: 120_000 });

  server.on('request', (req, res) => {
    handleRequest(opts, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : ((err as { status?: number }).status ?? 500);
      if (status >= 500) opts.log(`${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) res.destroy();
      else sendJson(res, status, { message: status >= 500 && !(err instanceof HttpError) ? 'internal error' : (err as Error).message });
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!originAllowed(req, opts.allowedOrigins)) return refuseUpgrade(socket, 403, 'origin not allowed');
    const keyed = PREVIEW_KEYED.exec(url.pathname);
    if (keyed) {
      const sandbox = opts.manager.byPreviewKey(keyed[1]!);
      const port = portOf(keyed[2]!);
      if (!sandbox || !port) return refuseUpgrade(socket, 404, 'no such preview');
      return proxyUpgrade(sandbox.parts.netns, port, `${keyed[3] ?? '/'}${url.search}`, req, socket, head);
    }
    const sandbox = opts.manager.get(sessionToken(req));
    if (!sandbox) return refuseUpgrade(socket, 401, 'no sandbox for this session: reload the page');
    if (url.pathname === '/api/ws') return terminals.accept(req, socket, head, sandbox);
    const preview = PREVIEW.exec(url.pathname);
    const port = preview ? portOf(preview[1]!) : undefined;
    if (preview && port) return proxyUpgrade(sandbox.parts.netns, port, `${preview[2] ?? '/'}${url.search}`, req, socket, head);
    refuseUpgrade(socket, 404, 'not found');
  });

  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    close: () => {
      terminals.close();
      server.close();
      server.closeAllConnections();
    },
  };
}

async function handleRequest(opts: WebServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const keyed = PREVIEW_KEYED.exec(url.pathname);
  if (keyed) {
    const sandbox = opts.manager.byPreviewKey(keyed[1]!);
    const port = portOf(keyed[2]!);
    if (!sandbox || !port) throw new HttpError(404, 'no such preview (the sandbox may have been reset)');
    return proxyHttp(sandbox.parts.netns, port, `${keyed[3] ?? '/'}${url.search}`, req, res);
  }
  const preview = PREVIEW.exec(url.pathname);
  if (preview) {
    const sandbox = opts.manager.get(sessionToken(req));
    const port = portOf(preview[1]!);
    if (!sandbox) throw new HttpError(401, 'no sandbox for this session: reload the page');
    if (!port) throw new HttpError(400, 'invalid port');
    // The preview itself is served from a capability URL: the learner's app runs as a sandboxed document
    // there (see preview-proxy.ts), which a cookie-authenticated URL could not serve its subresources to.
    res.writeHead(302, { Location: `/p/${sandbox.parts.previewKey}/${port}${preview[2] ?? '/'}${url.search}`, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  if (url.pathname.startsWith('/api/')) {
    const changesState = req.method !== 'GET' && req.method !== 'HEAD';
    if (changesState && !originAllowed(req, opts.allowedOrigins)) throw new HttpError(403, 'origin not allowed');
    if (await handleApi(opts, req, res, url)) return;
    throw new HttpError(404, 'not found');
  }
  if (await serveStatic(opts.staticDir, req, res)) return;
  throw new HttpError(404, 'not found');
}

function portOf(text: string): number | undefined {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}
