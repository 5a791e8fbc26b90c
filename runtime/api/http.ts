import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { EngineError, invalid } from '../errors.ts';

/** The API version we speak; the CLI negotiates down to it from the ping's Api-Version header. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

export interface ServerIdentity {
  /** Engine version shown by `docker version`. */
  version: string;
}

/** Headers the real daemon puts on every normal response (engine-api-facts §1.6). */
export function commonHeaders(identity: ServerIdentity): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    // The CLI parses "Docker/<x> (<os>)" from this header to pick the Linux stats calculation.
    Server: `Docker/${identity.version} (linux)`,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': '0' });
  res.end();
}

/**
 * The one place engine errors become Docker's error response: `{"message": …}` with exactly
 * `Content-Type: application/json` (anything else makes the CLI print the raw body), or no body for 304.
 */
export function sendError(res: ServerResponse, err: unknown): void {
  const engineError = toEngineError(err);
  if (res.headersSent) {
    res.destroy(engineError);
    return;
  }
  if (engineError.status === 304) {
    sendEmpty(res, 304);
    return;
  }
  sendJson(res, engineError.status, { message: engineError.message });
}

export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError('INTERNAL', message, { cause: err });
}

/**
 * A `application/json` progress stream (build, pull, push, load): objects separated by `\r\n`, flushed as
 * they go. Errors after the headers are sent become `errorDetail` messages, which is how the CLI sees them.
 */
export class JsonStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  write(message: Record<string, unknown>): void {
    this.start();
    this.res.write(`${JSON.stringify(message)}\r\n`);
  }

  fail(err: unknown): void {
    const e = toEngineError(err);
    if (!this.started && !this.res.headersSent) {
      sendError(this.res, e);
      return;
    }
    this.write({ errorDetail: { message: e.message }, error: e.message });
    this.res.end();
  }

  end(): void {
    this.start();
    this.res.end();
  }

  /** True once the client has gone away; long operations check it to stop early. */
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }
}

const MAX_JSON_BODY = 4 * 1024 * 1024;

/** Read and parse a JSON request body, capped in size. An empty body is `undefined`. */
export async function readJsonBody<T>(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalid(`request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '' || text === 'null') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalid(`invalid JSON in request body: ${(err as Error).message}`, err);
  }
}

/**
 * An upload's body behind a PassThrough: readers of hostile archives destroy their input when they fail, and
 * that must not destroy the request (and its socket) before the error is sent.
 */
export function uploadBody(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  req.on('error', (err) => body.destroy(err));
  req.pipe(body);
  return body;
}

/** Read and discard what the client is still sending, so it reads our answer instead of a broken pipe. */
export async function drainRequest(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return;
  req.unpipe();
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
}
