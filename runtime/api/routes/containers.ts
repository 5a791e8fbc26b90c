import type { ServerResponse } from 'node:http';
import type { Engine } from '../../engine.ts';
import { EngineError, invalid } from '../../errors.ts';
import { goJson } from '../../image/config.ts';
import { createOptions, type CreateBody } from '../../container-api/create-request.ts';
import type { ExecRegistry } from '../../container-api/execs.ts';
import { inspectContainer } from '../../container-api/inspect.ts';
import { listContainers } from '../../container-api/list.ts';
import { pruneContainers } from '../../container-api/prune.ts';
import { readJsonBody, sendEmpty, sendJson } from '../http.ts';
import type { Query } from '../query.ts';
import type { Router } from '../router.ts';

const ID = '([^/]+)';
const path = (suffix = '') => new RegExp(`^/containers/${ID}${suffix}$`);

/** Container lifecycle and listing routes (engine-api-facts §6, §7.3, §7.6, §7.8, §9.1). Handlers stay thin. */
export function containerRoutes(router: Router, engine: Engine, execs: ExecRegistry): void {
  const rt = engine.containers;

  router.on('POST', '/containers/create', async ({ req, res, query }) => {
    const body = await readJsonBody<CreateBody>(req);
    sendJson(res, 201, await rt.create(createOptions(engine.ns, engine.network, query.string('name'), body)));
  });
  router.on('GET', '/containers/json', async ({ res, query }) => {
    const opts = { all: query.bool('all'), size: query.bool('size'), filters: query.filters(), limit: query.int('limit', -1)! };
    sendGoJson(res, await listContainers(engine, opts));
  });
  router.on('POST', '/containers/prune', async ({ res, query }) => {
    sendGoJson(res, await pruneContainers(engine, query.filters()));
  });
  router.on('GET', path('/json'), async ({ res, params, query }) => {
    const id = rt.inspect(params[0]!).record.Id;
    sendGoJson(res, await inspectContainer(engine, id, { size: query.bool('size'), execIds: execs.idsOf(id) }));
  });
  router.on('POST', path('/start'), async ({ res, params }) => {
    await startOrRemove(engine, params[0]!);
    sendEmpty(res, 204);
  });
  router.on('POST', path('/stop'), async ({ res, params, query }) => {
    await rt.stop(params[0]!, stopOptions(query));
    sendEmpty(res, 204);
  });
  router.on('POST', path('/restart'), async ({ res, params, query }) => {
    await rt.stop(params[0]!, stopOptions(query)).catch(ignoreNotModified);
    await startOrRemove(engine, params[0]!);
    sendEmpty(res, 204);
  });
  router.on('POST', path('/kill'), async ({ res, params, query }) => {
    const name = params[0]!;
    await rt.kill(name, query.string('signal') || 'SIGKILL').catch((err: unknown) => {
      // dockerd prefixes every kill failure with the container as the client named it.
      if (err instanceof EngineError && err.code === 'CONFLICT') throw new EngineError('CONFLICT', `Cannot kill container: ${name}: ${err.message}`, { cause: err });
      throw err;
    });
    sendEmpty(res, 204);
  });
  router.on('POST', path('/pause'), async ({ res, params }) => {
    await rt.pause(params[0]!);
    sendEmpty(res, 204);
  });
  router.on('POST', path('/unpause'), async ({ res, params }) => {
    await rt.unpause(params[0]!);
    sendEmpty(res, 204);
  });
  router.on('POST', path('/rename'), async ({ res, params, query }) => {
    await rt.rename(params[0]!, query.string('name') ?? '');
    sendEmpty(res, 204);
  });
  router.on('POST', path('/resize'), ({ res, params, query }) => {
    const rows = query.int('h', 0)!;
    const cols = query.int('w', 0)!;
    if (rows <= 0 || cols <= 0) throw invalid('invalid terminal size');
    rt.resize(params[0]!, cols, rows);
    sendEmpty(res, 200);
  });
  router.on('DELETE', path(), async ({ res, params, query }) => {
    if (query.bool('link')) throw invalid('Conflict, cannot remove the default link name of the container');
    await rt.remove(params[0]!, { force: query.bool('force'), removeVolumes: query.bool('v') });
    sendEmpty(res, 204);
  });
}

/** Start; a `--rm` container whose start fails is removed, as dockerd does (the CLI waits for `removed`). */
async function startOrRemove(engine: Engine, idOrName: string): Promise<void> {
  const { record } = engine.containers.inspect(idOrName);
  try {
    await engine.containers.start(record.Id);
  } catch (err) {
    const failed = !(err instanceof EngineError && err.code === 'NOT_MODIFIED');
    if (failed && record.HostConfig.AutoRemove) {
      await engine.containers.remove(record.Id, { force: true }).catch(() => undefined);
      // Let the `removed` wait answer reach the CLI before this error does: the CLI cancels its wait on a
      // start error, and a wait still pending then is reported as "error waiting for container".
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw err;
  }
}

function stopOptions(query: Query): { timeoutSeconds?: number } {
  const t = query.int('t');
  return t === undefined ? {} : { timeoutSeconds: t };
}

function ignoreNotModified(err: unknown): void {
  if (!(err instanceof EngineError && err.code === 'NOT_MODIFIED')) throw err;
}

/** JSON the way dockerd's encoder writes it (`<`, `>`, `&` escaped), which `docker inspect` shows as is. */
function sendGoJson(res: ServerResponse, body: unknown): void {
  const text = `${goJson(body)}\n`;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
