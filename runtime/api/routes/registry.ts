import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import { decodeRegistryAuth, type Credentials } from '../../registry/client/credentials.ts';
import { login, searchImages, type SearchOptions } from '../../registry/client/login.ts';
import { pushImage } from '../../registry/client/push.ts';
import { JsonStream, readJsonBody, sendJson } from '../http.ts';
import { checkFilterNames, type Query } from '../query.ts';
import type { RequestContext, Router } from '../router.ts';

/** Registry commands: `docker push`, `login`, `search` (pull is `POST /images/create`, in image-archive.ts). */
export function registryRoutes(router: Router, engine: Engine): void {
  router.on('POST', /^\/images\/(.+)\/push$/, (ctx) => push(ctx, engine));
  router.on('POST', '/auth', async ({ req, res }) => {
    const body = (await readJsonBody<Credentials>(req)) ?? {};
    sendJson(res, 200, await login(engine.store, pick(body), engine.hostNetns));
  });
  router.on('GET', '/images/search', async ({ req, res, query }) => {
    const term = query.string('term');
    if (!term) throw invalid('term is required');
    const results = await searchImages(engine.store, { term, limit: query.int('limit', 25)!, filters: searchFilters(query), credentials: decodeRegistryAuth(header(req.headers['x-registry-auth'])) }, engine.hostNetns);
    sendJson(res, 200, results);
  });
}

async function push({ req, res, params, query }: RequestContext, engine: Engine): Promise<void> {
  const stream = new JsonStream(res);
  const tag = query.string('tag');
  try {
    await pushImage(engine, params[0]!, {
      ...(tag ? { tag } : {}),
      credentials: decodeRegistryAuth(header(req.headers['x-registry-auth'])),
      onProgress: (m) => stream.write(m),
    });
    stream.end();
  } catch (err) {
    stream.fail(err);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Only the AuthConfig fields a login uses, each a string. */
function pick(body: Credentials): Credentials {
  const out: Credentials = {};
  for (const key of ['username', 'password', 'serveraddress'] as const) if (typeof body[key] === 'string') out[key] = body[key];
  return out;
}

/** `--filter stars=3`, `is-official=true`, `is-automated=false`, checked like the daemon does. */
function searchFilters(query: Query): SearchOptions['filters'] {
  const filters = query.filters();
  checkFilterNames(filters, ['stars', 'is-official', 'is-automated']);
  const out: NonNullable<SearchOptions['filters']> = {};
  const stars = filters.get('stars')?.[0];
  if (stars !== undefined) {
    const n = Number(stars);
    if (!Number.isInteger(n)) throw invalid(`Invalid filter 'stars=${stars}'`);
    out.stars = n;
  }
  const flag = (name: string) => {
    const v = filters.get(name)?.[0];
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw invalid(`Invalid filter '${name}=${v}'`);
    return v === 'true';
  };
  const official = flag('is-official');
  const automated = flag('is-automated');
  if (official !== undefined) out.isOfficial = official;
  if (automated !== undefined) out.isAutomated = automated;
  return out;
}
