import { promises as fs } from 'node:fs';
import http from 'node:http';
import { isErrno } from '../errors.ts';
import { commonHeaders, sendError, sendJson, type ServerIdentity } from './http.ts';
import type { Router } from './router.ts';

/**
 * Serve the Docker Engine API on a unix socket. The HTTP layer is thin: routes turn requests into typed
 * options and call engine functions; every thrown EngineError becomes Docker's error response here.
 */
export async function listenOnSocket(router: Router, identity: ServerIdentity, socketPath: string): Promise<http.Server> {
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 60_000 });
  const headers = commonHeaders(identity);

  server.on('request', (req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const found = router.match(req.method ?? 'GET', req.url ?? '/');
    if (!found) {
      req.resume();
      sendJson(res, 404, { message: 'page not found' });
      return;
    }
    Promise.resolve()
      .then(() => found.handler({ req, res, params: found.params, query: found.query }))
      .catch((err: unknown) => sendError(res, err));
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const found = router.matchUpgrade(req.method ?? 'POST', req.url ?? '/');
    if (!found) {
      const body = `${JSON.stringify({ message: 'page not found' })}\n`;
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    Promise.resolve()
      .then(() => found.handler({ req, socket, head, params: found.params, query: found.query }))
      .catch((err: unknown) => {
        const message = `${JSON.stringify({ message: err instanceof Error ? err.message : String(err) })}\n`;
        const status = (err as { status?: number }).status ?? 500;
        if (socket.writable) {
          socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
        }
      });
  });

  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  try {
    await fs.unlink(socketPath);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only root (the engine's owner) may talk to the socket.
  await fs.chmod(socketPath, 0o660);
  return server;
}
