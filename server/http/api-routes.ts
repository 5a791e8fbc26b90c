import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LessonCatalog } from '../lessons/index.ts';
import type { Full } from '../protocol.ts';
import { ClientLimitError, SandboxFullError, type SandboxManager } from '../sandbox/manager.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { HttpError, readBody, readJson, sendJson } from './respond.ts';
import { sessionCookie, sessionToken } from './session-guard.ts';

export interface ApiContext {
  manager: SandboxManager;
  lessons: LessonCatalog;
  secureCookies: boolean;
}

/**
 * The JSON API of protocol.ts. Each handler gets the request, the URL and, for sandbox routes, the caller's
 * sandbox (found by the session cookie; none → 401). Returns false when no route matches.
 */
export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const route = `${req.method} ${url.pathname}`;
  if (route === 'POST /api/session') return session(ctx, req, res);
  if (route === 'GET /api/lessons') return ok(res, ctx.lessons.list());
  const lesson = /^\/api\/lessons\/([a-z0-9-]{1,64})$/.exec(url.pathname);
  if (lesson && req.method === 'GET') return ok(res, found(ctx.lessons.get(lesson[1]!), 'no such lesson'));

  const sandbox = ctx.manager.get(sessionToken(req));
  const needSandbox = (): Sandbox => {
    if (!sandbox) throw new HttpError(401, 'no sandbox for this session: reload the page');
    sandbox.touch();
    return sandbox;
  };
  const file = () => requiredPath(url);
  switch (route) {
    case 'POST /api/sandbox/reset':
      return reset(ctx, needSandbox(), req, res);
    case 'GET /api/files':
      return ok(res, await needSandbox().files.list());
    case 'GET /api/file':
      return ok(res, await needSandbox().files.read(file()));
    case 'PUT /api/file':
      return ok(res, await needSandbox().files.write(file(), await readBody(req)));
    case 'DELETE /api/file':
      await needSandbox().files.remove(file());
      res.writeHead(204).end();
      return true;
    case 'POST /api/files/mkdir':
      return ok(res, await needSandbox().files.mkdir(file()));
    case 'POST /api/files/rename': {
      const body = (await readJson(req)) as { from?: unknown; to?: unknown };
      if (typeof body?.from !== 'string' || typeof body.to !== 'string') throw new HttpError(400, 'rename needs "from" and "to"');
      return ok(res, await needSandbox().files.rename(body.from, body.to));
    }
    case 'GET /api/ports':
      return ok(res, needSandbox().publishedPorts());
  }
  const start = /^\/api\/lessons\/([a-z0-9-]{1,64})\/start$/.exec(url.pathname);
  if (start && req.method === 'POST') return startLesson(ctx, needSandbox(), start[1]!, res);
  return false;
}

async function session(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const existing = ctx.manager.get(sessionToken(req));
  if (existing) {
    existing.touch();
    return ok(res, existing.info());
  }
  return created(ctx, req, res);
}

async function reset(ctx: ApiContext, sandbox: Sandbox, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  await ctx.manager.destroy(sandbox, 'reset');
  return created(ctx, req, res);
}

async function created(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  try {
    const sandbox = await ctx.manager.create(req.socket.remoteAddress ?? 'unknown');
    sendJson(res, 200, sandbox.info(), { 'Set-Cookie': sessionCookie(sandbox.parts.token, ctx.secureCookies) });
  } catch (err) {
    if (err instanceof ClientLimitError) throw new HttpError(429, err.message);
    if (!(err instanceof SandboxFullError)) throw err;
    const body: Full = { message: err.message, retryAfterSeconds: err.retryAfterSeconds };
    sendJson(res, 503, body, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  return true;
}

/** Copy the lesson's starter files into the workspace (through the same path-safe file service). */
async function startLesson(ctx: ApiContext, sandbox: Sandbox, slug: string, res: ServerResponse): Promise<boolean> {
  const lesson = found(ctx.lessons.get(slug), 'no such lesson');
  await sandbox.files.install(ctx.lessons.starterFiles(slug));
  return ok(res, lesson);
}

function requiredPath(url: URL): string {
  const p = url.searchParams.get('path');
  if (p === null) throw new HttpError(400, 'the "path" parameter is required');
  return p;
}

function found<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new HttpError(404, message);
  return value;
}

function ok(res: ServerResponse, body: unknown): true {
  sendJson(res, 200, body);
  return true;
}
