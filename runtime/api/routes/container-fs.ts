import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import { getContainerArchive, putContainerArchive, statContainerPath, type PathStat } from '../../container-fs/archive.ts';
import { commitContainer } from '../../container-fs/commit.ts';
import { containerChanges } from '../../container-fs/diff.ts';
import { exportContainer } from '../../container-fs/export.ts';
import type { ContainerConfig } from '../../image/config.ts';
import { sampleStats, statsJson } from '../../observe/stats.ts';
import { containerTop } from '../../observe/top.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';

const container = (suffix: string) => new RegExp(`^/containers/([^/]+)/${suffix}$`);

/** `docker cp`, `diff`, `export`, `commit`, `top`, `stats`: the container's files and processes. */
export function containerFsRoutes(router: Router, engine: Engine): void {
  const rt = engine.containers;
  router.on('GET', container('archive'), async ({ req, res, params, query }) => {
    const target = requiredPath(query.string('path'));
    if (req.method === 'HEAD') {
      const stat = await statContainerPath(rt, params[0]!, target);
      res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/json', 'Content-Length': '0' });
      res.end();
      return;
    }
    await getContainerArchive(rt, params[0]!, target, (stat, tar) => streamOut(res, tar, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(stat) }));
  });
  router.on('PUT', container('archive'), async ({ req, res, params, query }) => {
    const opts = { noOverwriteDirNonDir: query.bool('noOverwriteDirNonDir'), copyUidGid: query.bool('copyUIDGID'), limits: engine.limits };
    await putContainerArchive(rt, params[0]!, requiredPath(query.string('path')), req, opts);
    // The CLI accepts only 200 here (engine-api-facts §12.10).
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
  router.on('GET', container('changes'), async ({ res, params }) => {
    const changes = await containerChanges(rt, params[0]!);
    sendJson(res, 200, changes.length > 0 ? changes : null);
  });
  router.on('GET', container('export'), async ({ res, params }) => {
    const attrs = eventAttrs(engine, params[0]!);
    const id = rt.inspect(params[0]!).record.Id;
    await exportContainer(rt, id, (tar) => streamOut(res, tar, { 'Content-Type': 'application/octet-stream' }));
    engine.events.emit('container', 'export', id, attrs);
  });
  router.on('POST', '/commit', async ({ req, res, query }) => {
    const body = await readJsonBody<ContainerConfig>(req);
    const idOrName = query.string('container') ?? '';
    if (!idOrName) throw invalid('No container name or ID supplied');
    const attrs = eventAttrs(engine, idOrName);
    const containerId = rt.inspect(idOrName).record.Id;
    const id = await commitContainer({ runtime: rt, store: engine.store, ns: engine.ns }, containerId, {
      repo: query.string('repo') ?? '',
      tag: query.string('tag') ?? '',
      comment: query.string('comment') ?? '',
      author: query.string('author') ?? '',
      changes: query.all('changes'),
      ...(body ? { config: body } : {}),
      engineVersion: engine.options.version,
    });
    engine.events.emit('container', 'commit', containerId, { ...attrs, comment: query.string('comment') ?? '' });
    sendJson(res, 201, { Id: id });
  });
  router.on('GET', container('top'), async ({ res, params, query }) => {
    sendJson(res, 200, await containerTop(rt, params[0]!, query.string('ps_args') || '-ef'));
  });
  router.on('GET', container('stats'), async ({ req, res, params, query }) => {
    const stream = query.string('stream') === undefined || query.bool('stream');
    const { record, state } = rt.inspect(params[0]!);
    // A container that is not running gets one empty sample, streamed or not, as from dockerd.
    if (!stream || !state.Running) {
      // One object with `precpu` filled: the CLI computes CPU % from two samples and gives up after 2 s.
      const first = query.bool('one-shot') || !state.Running ? undefined : await sampleStats(rt, record.Id);
      if (first) await new Promise((r) => setTimeout(r, 500));
      sendJson(res, 200, statsJson(await sampleStats(rt, record.Id), first, record));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.on('error', () => undefined);
    let previous;
    while (!res.destroyed && !req.destroyed) {
      const current = await sampleStats(rt, record.Id).catch(() => undefined);
      if (!current) break;
      res.write(`${JSON.stringify(statsJson(current, previous, record))}\n`);
      previous = current;
      await new Promise((r) => setTimeout(r, 1000));
    }
    res.end();
  });
}

function requiredPath(p: string | undefined): string {
  if (!p) throw invalid('path is required');
  return p;
}

/** Standard base64 of the stat JSON, as the CLI decodes it. */
function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

async function streamOut(res: ServerResponse, tar: Readable, headers: Record<string, string>): Promise<void> {
  res.writeHead(200, headers);
  try {
    await pipeline(tar, res);
  } catch {
    // The client went away, or the walk failed after the headers: end the response short.
    res.destroy();
  }
}

function eventAttrs(engine: Engine, idOrName: string): Record<string, string> {
  const { record } = engine.containers.inspect(idOrName);
  return { image: record.Config.Image, name: record.Name.slice(1) };
}
