import type { ServerResponse } from 'node:http';
import type { Engine } from '../../engine.ts';
import { noContainers, type ContainersUsingImage, type ImageContext } from '../../image/context.ts';
import { goJson } from '../../image/config.ts';
import { imageHistory } from '../../image/history.ts';
import { inspectImage } from '../../image/inspect.ts';
import { listImages } from '../../image/list.ts';
import { pruneImages } from '../../image/prune.ts';
import { removeImage } from '../../image/remove.ts';
import { tagImage } from '../../image/tag.ts';
import { sendEmpty } from '../http.ts';
import type { Router } from '../router.ts';

export interface ImageRouteDeps {
  /** The container service's view of which containers use an image; none until containers exist. */
  containersUsingImage?: ContainersUsingImage;
}

/**
 * Image listing and management: `docker images`, `image inspect`, `history`, `tag`, `rmi` and `image prune`
 * (`system df` is in system-events.ts). Image names go in the path unescaped and may hold `/` and `:`, hence greedy captures.
 */
export function imageRoutes(router: Router, engine: Engine, deps: ImageRouteDeps = {}): void {
  const ctx: ImageContext = { store: engine.store, ns: engine.ns, containersUsingImage: deps.containersUsingImage ?? noContainers };

  router.on('GET', '/images/json', async ({ res, query }) => {
    sendGoJson(res, 200, await listImages(ctx, { all: query.bool('all'), filters: query.filters() }));
  });
  router.on('POST', '/images/prune', async ({ res, query }) => {
    sendGoJson(res, 200, await pruneImages(ctx, query.filters()));
  });
  router.on('GET', /^\/images\/(.+)\/json$/, async ({ res, params }) => {
    sendGoJson(res, 200, await inspectImage(ctx, params[0]!));
  });
  router.on('GET', /^\/images\/(.+)\/history$/, async ({ res, params }) => {
    sendGoJson(res, 200, await imageHistory(ctx, params[0]!));
  });
  router.on('POST', /^\/images\/(.+)\/tag$/, async ({ res, params, query }) => {
    await tagImage(ctx, params[0]!, query.string('repo') ?? '', query.string('tag') ?? '');
    sendEmpty(res, 201);
  });
  router.on('DELETE', /^\/images\/(.+)$/, async ({ res, params, query }) => {
    sendGoJson(res, 200, await removeImage(ctx, params[0]!, { force: query.bool('force'), prune: !query.bool('noprune') }));
  });
}

/** JSON the way dockerd's encoder writes it (`<`, `>`, `&` escaped), which `docker inspect` shows as is. */
function sendGoJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${goJson(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
