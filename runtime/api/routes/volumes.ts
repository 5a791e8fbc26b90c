import type { Engine } from '../../engine.ts';
import type { VolumeCreateOptions } from '../../volume/store.ts';
import { readJsonBody, sendEmpty, sendJson } from '../http.ts';
import type { Router } from '../router.ts';

/** `docker volume create/ls/inspect/rm/prune` (engine-api-facts §7.33). */
export function volumeRoutes(router: Router, engine: Engine): void {
  const volumes = engine.volumes;
  const emit = (action: string, name: string) => engine.events.emit('volume', action, name, { driver: 'local' });
  router.on('GET', '/volumes', async ({ res, query }) => {
    sendJson(res, 200, { Volumes: await volumes.list(query.filters()), Warnings: null });
  });
  router.on('POST', '/volumes/create', async ({ req, res }) => {
    const body = (await readJsonBody<VolumeCreateOptions>(req)) ?? {};
    const existed = body.Name ? await volumes.get(body.Name).then(() => true, () => false) : false;
    const volume = await volumes.create(body);
    if (!existed) emit('create', volume.Name);
    sendJson(res, 201, volume);
  });
  router.on('POST', '/volumes/prune', async ({ res, query }) => {
    const result = await volumes.prune(query.filters());
    for (const name of result.VolumesDeleted) emit('destroy', name);
    sendJson(res, 200, result);
  });
  router.on('GET', /^\/volumes\/([^/]+)$/, async ({ res, params }) => sendJson(res, 200, await volumes.get(params[0]!)));
  router.on('DELETE', /^\/volumes\/([^/]+)$/, async ({ res, params, query }) => {
    const existed = await volumes.get(params[0]!).then(() => true, () => false);
    await volumes.remove(params[0]!, { force: query.bool('force') });
    if (existed) emit('destroy', params[0]!);
    sendEmpty(res, 204);
  });
}
