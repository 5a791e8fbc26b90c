import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import { importImage } from '../../image/import.ts';
import { loadImages } from '../../image/load.ts';
import { saveImages } from '../../image/save.ts';
import { decodeRegistryAuth } from '../../registry/client/credentials.ts';
import { pullImage } from '../../registry/client/pull.ts';
import { drainRequest, JsonStream, uploadBody } from '../http.ts';
import type { Query } from '../query.ts';
import type { RequestContext, Router } from '../router.ts';
import { errorMessage, progressMessage } from './json-progress.ts';

/** Images in and out: `docker save`, `load`, `import`, and `pull` (from the embedded hub or any registry). */
export function imageArchiveRoutes(router: Router, engine: Engine): void {
  router.on('GET', '/images/get', (ctx) => save(ctx, engine, ctx.query.all('names')));
  router.on('GET', /^\/images\/(.+)\/get$/, (ctx) => save(ctx, engine, [ctx.params[0]!]));
  router.on('POST', '/images/load', (ctx) => load(ctx, engine));
  router.on('POST', '/images/create', (ctx) => (ctx.query.string('fromSrc') !== undefined ? importFrom(ctx, engine) : pull(ctx, engine)));
}

async function save({ res }: RequestContext, engine: Engine, names: string[]): Promise<void> {
  const archive = await saveImages(engine.store, engine.ns, names);
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  // A failure mid-archive can only cut the stream: the CLI then reports a truncated download.
  await pipeline(archive, res).catch(() => res.destroy());
}

/** moby answers 200 and reports load errors inside the JSON stream; the CLI prints them and exits 1. */
async function load({ req, res, query }: RequestContext, engine: Engine): Promise<void> {
  const quiet = query.string('quiet') === undefined ? true : query.bool('quiet');
  const stream = new JsonStream(res);
  try {
    await loadImages(engine.store, engine.ns, uploadBody(req), (e) => {
      if (e.kind === 'line') stream.write({ stream: `${e.text}\n` });
      else if (!quiet) stream.write(progressMessage('Loading layer', e.id, e.current, e.total));
    });
  } catch (err) {
    await drainRequest(req);
    stream.write(errorMessage(err));
  }
  stream.end();
}

async function importFrom({ req, res, query }: RequestContext, engine: Engine): Promise<void> {
  const src = query.string('fromSrc')!;
  // Fetching a URL from the server's network would be an SSRF hole; layerlab has no outbound network here.
  if (src !== '-') throw invalid(`importing from a URL is not supported by layerlab (${src.slice(0, 200)}); download the file and use: docker import <file>`);
  const stream = new JsonStream(res);
  try {
    const id = await importImage(engine.store, engine.ns, uploadBody(req), {
      repo: query.string('repo'),
      tag: query.string('tag'),
      changes: query.all('changes'),
      message: query.string('message'),
      engineVersion: engine.options.version,
    });
    stream.write({ status: id });
    stream.end();
  } catch (err) {
    await drainRequest(req);
    stream.fail(err);
  }
}

async function pull({ req, res, query }: RequestContext, engine: Engine): Promise<void> {
  const image = required(query, 'fromImage');
  const tag = query.string('tag');
  const auth = req.headers['x-registry-auth'];
  const stream = new JsonStream(res);
  try {
    await pullImage(engine, image, {
      ...(tag ? { tag } : {}),
      credentials: decodeRegistryAuth(Array.isArray(auth) ? auth[0] : auth),
      onProgress: (m) => stream.write(m),
    });
    stream.end();
  } catch (err) {
    stream.fail(err);
  }
}

function required(query: Query, name: string): string {
  const value = query.string(name);
  if (!value) throw invalid(`${name} is required`);
  return value;
}
