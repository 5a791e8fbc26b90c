import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EngineError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import { isRepositoryName, RegistryError } from '../distribution.ts';
import { HubAuth } from './auth.ts';
import { blobRoute, startUpload, uploadRoute } from './blobs.ts';
import { sendJson, sendRegistryError, type HubContext, type HubRequest } from './context.ts';
import { HubState } from './hub-state.ts';
import { catalogList, search, tagsList } from './listing.ts';
import { manifestRoute } from './manifests.ts';
import { actionFor, authorize, challenge, tokenRoute } from './token.ts';
import { Uploads } from './uploads.ts';

export interface HubOptions {
  store: Store;
  /** Directory for the hub's metadata (hub.json). */
  stateDir: string;
  /** Loopback port to listen on; 0 picks a free one. */
  port: number;
  /** Whether an unknown username registers itself on first login. */
  selfRegister: boolean;
  /** Cap on one uploaded blob (defaults to the store's archive byte limit). */
  maxBlobBytes?: number;
}

const REPO_PATH = /^\/v2\/(.+)\/(manifests\/[^/]+|blobs\/uploads\/[^/]*|blobs\/[^/]+|tags\/list)$/;

/**
 * The embedded registry ("hub"): distribution v2 over node:http on loopback only, storing content in the
 * engine's blob store and names in its own JSON. Token auth: everyone may pull, accounts push under their
 * own name (`alice/app`).
 */
export class Hub {
  private constructor(
    private readonly server: http.Server,
    readonly ctx: HubContext,
  ) {}

  static async start(opts: HubOptions): Promise<Hub> {
    await fs.mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
    const state = await HubState.open(opts.stateDir);
    const maxBlobBytes = opts.maxBlobBytes ?? opts.store.limits.maxBytes;
    const uploads = new Uploads(path.join(opts.store.tmpDir, 'hub-uploads'), maxBlobBytes);
    await uploads.init();
    const ctx: HubContext = { store: opts.store, state, auth: new HubAuth(state, opts.selfRegister), uploads, baseUrl: '', maxBlobBytes };
    // Content the hub names must survive the engine's garbage collection.
    opts.store.addRootProvider(() => ({ blobs: state.liveBlobs() }));
    const server = http.createServer((req, res) => void handle(ctx, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Loopback only: the hub is reached by this host's engine and tools, never from other machines.
      server.listen(opts.port, '127.0.0.1', () => resolve());
    });
    ctx.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new Hub(server, ctx);
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return this.ctx.baseUrl.slice('http://'.length);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(hub: HubContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://hub');
    await route(hub, req, res, url);
  } catch (err) {
    req.resume();
    sendRegistryError(res, toRegistryError(err));
  }
}

async function route(hub: HubContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const p = url.pathname;
  if (p === '/token') return tokenRoute(hub, req, url, res);
  if (p === '/v1/_ping') return sendJson(res, 200, {});
  if (p === '/v1/search') return search(hub, url, res);
  if (p === '/v2/' || p === '/v2') return authorize(hub, req) ? sendJson(res, 200, {}) : challenge(hub, { res });
  if (p === '/v2/_catalog') {
    if (!authorize(hub, req, { type: 'registry', name: 'catalog', action: '*' })) return challenge(hub, { res }, 'registry:catalog:*');
    return catalogList(hub, url, res);
  }
  const m = REPO_PATH.exec(p);
  if (!m) throw new RegistryError('UNSUPPORTED', null, `no such endpoint: ${req.method} ${p.slice(0, 200)}`, 404);
  const name = m[1]!;
  if (!isRepositoryName(name)) throw new RegistryError('NAME_INVALID', { name: name.slice(0, 300) });
  const action = actionFor(req.method ?? 'GET', m[2]!);
  if (!authorize(hub, req, { type: 'repository', name, action })) {
    return challenge(hub, { res }, `repository:${name}:${action === 'pull' ? 'pull' : `${action},pull`}`);
  }
  const r: HubRequest = { req, res, url, hub, name, rest: m[2]! };
  return dispatch(r);
}

function dispatch(r: HubRequest): Promise<void> | void {
  const [kind, second, third] = r.rest.split('/');
  const method = r.req.method ?? 'GET';
  const reading = method === 'GET' || method === 'HEAD';
  if (kind === 'tags' && reading) return tagsList(r);
  if (kind === 'manifests' && (reading || method === 'PUT' || method === 'DELETE')) return manifestRoute(r, second!);
  if (second === 'uploads') {
    if (third) return uploadRoute(r, third);
    if (method === 'POST') return startUpload(r);
  } else if (kind === 'blobs' && (reading || method === 'DELETE')) {
    return blobRoute(r, second!);
  }
  throw new RegistryError('UNSUPPORTED');
}

function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof EngineError && err.code === 'NOT_FOUND') return new RegistryError('BLOB_UNKNOWN', null, err.message);
  if (err instanceof EngineError && err.message.includes('exceeds the limit')) return new RegistryError('SIZE_INVALID', null, err.message, 413);
  return new RegistryError('UNKNOWN', null, err instanceof Error ? err.message : String(err));
}
