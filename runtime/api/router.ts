import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Query } from './query.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Captures of the route pattern (e.g. an image name containing `/` and `:`). */
  params: string[];
  query: Query;
}

/** A hijacked (Connection: Upgrade) request: attach and exec start talk raw bytes over the socket. */
export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  /** Bytes that arrived after the request head (exec start's JSON body, early stdin). */
  head: Buffer;
  params: string[];
  query: Query;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;
export type UpgradeHandler = (ctx: UpgradeContext) => Promise<void> | void;

interface Route<H> {
  method: string;
  pattern: RegExp;
  handler: H;
}

/** Strips the `/v1.41` prefix: moby routes versioned and unversioned paths alike. */
const VERSION_PREFIX = /^\/v(\d+\.\d+)(?=\/)/;

/**
 * Method + path-pattern routing. Patterns are anchored regexes; image names go in the path unescaped
 * (`/images/localhost:5000/x/push`), so their captures are greedy like moby's `{name:.*}`.
 */
export class Router {
  private readonly routes: Array<Route<Handler>> = [];
  private readonly upgrades: Array<Route<UpgradeHandler>> = [];

  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.push({ method, pattern: compile(path), handler });
    return this;
  }

  onUpgrade(method: string, path: string | RegExp, handler: UpgradeHandler): this {
    this.upgrades.push({ method, pattern: compile(path), handler });
    return this;
  }

  match(method: string, rawUrl: string): { handler: Handler; params: string[]; query: Query } | undefined {
    return find(this.routes, method, rawUrl);
  }

  matchUpgrade(method: string, rawUrl: string): { handler: UpgradeHandler; params: string[]; query: Query } | undefined {
    return find(this.upgrades, method, rawUrl);
  }

  /** True when some route has this path under another method (405 rather than 404). */
  hasPath(rawUrl: string): boolean {
    const { path } = split(rawUrl);
    return this.routes.some((r) => r.pattern.test(path));
  }
}

function compile(path: string | RegExp): RegExp {
  return typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
}

function split(rawUrl: string): { path: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    path = rawPath;
  }
  return { path: path.replace(VERSION_PREFIX, ''), query: new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)) };
}

function find<H>(routes: Array<Route<H>>, method: string, rawUrl: string) {
  const { path, query } = split(rawUrl);
  const effective = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  for (const m of effective) {
    for (const route of routes) {
      if (route.method !== m) continue;
      const found = route.pattern.exec(path);
      if (found) return { handler: route.handler, params: found.slice(1), query: new Query(query) };
    }
  }
  return undefined;
}
