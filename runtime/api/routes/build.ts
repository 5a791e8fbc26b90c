import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { encodeMessage, renderEvent, type BuildEvent } from '../../builder/index.ts';
import { BuildService, type BuildRequest } from '../../builder/service.ts';
import type { HostConfig } from '../../container/types.ts';
import type { Engine } from '../../engine.ts';
import { forbidden, invalid, notFound } from '../../errors.ts';
import type { PullEvent } from '../../image/pull-catalog.ts';
import { drainRequest, sendError, sendJson, toEngineError, uploadBody } from '../http.ts';
import type { Query } from '../query.ts';
import type { RequestContext, Router } from '../router.ts';

/**
 * `POST /build` (the classic builder's API, which the CLI uses because the ping names no BuildKit) and the
 * learner-facing build records under /layerlab/, which the docker CLI never calls.
 */
export function buildRoutes(router: Router, engine: Engine): void {
  const service = new BuildService({
    store: engine.store,
    ns: engine.ns,
    catalog: engine.catalog,
    containers: engine.containers,
    version: engine.options.version,
    viewDir: path.join(engine.options.stateDir, 'builder-views'),
  });
  router.on('POST', '/build', (ctx) => build(ctx, service));
  router.on('GET', '/layerlab/builds', async ({ res }) => sendJson(res, 200, await service.builds()));
  router.on('GET', /^\/layerlab\/builds\/([^/]+)$/, async ({ res, params }) => {
    const record = await service.buildRecord(params[0]!);
    if (!record) throw notFound(`No such build: ${params[0]!.slice(0, 80)}`);
    sendJson(res, 200, record);
  });
}

async function build({ req, res, query }: RequestContext, service: BuildService): Promise<void> {
  const request = parseBuildQuery(query);
  const quiet = query.bool('q');
  const out = new BuildStream(res, quiet);
  const abort = new AbortController();
  // The client going away (Ctrl-C, a dropped connection) cancels the build: RUN containers are killed and removed.
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const body = uploadBody(req);
  try {
    await service.build(request, body, { signal: abort.signal, onEvent: (e) => out.event(e), onPull: (e) => out.pull(e) });
    out.end();
  } catch (err) {
    await drainRequest(req);
    out.fail(err);
  }
}

/**
 * The build's JSON stream, started lazily: moby answers with a plain HTTP error when a build fails before
 * anything was written (a bad Dockerfile, a missing one), and with an `errorDetail` message after. In quiet
 * mode the output is held back and only sent (before the error) if the build fails.
 */
class BuildStream {
  private started = false;
  private held: string[] = [];
  private failure: BuildEvent | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly quiet: boolean,
  ) {}

  event(e: BuildEvent): void {
    if (e.type === 'build-error') {
      this.failure = e;
      return;
    }
    if (this.quiet) {
      this.held.push(...renderEvent(e).map(encodeMessage));
      for (const m of renderEvent(e, { quiet: true })) this.write(encodeMessage(m));
    } else {
      for (const m of renderEvent(e)) this.write(encodeMessage(m));
    }
  }

  /** Pull messages inside the build stream, as dockerd's puller writes them to the build's output. */
  pull(e: PullEvent): void {
    const text = `${JSON.stringify(e.id === undefined ? { status: e.status } : { status: e.status, id: e.id })}\r\n`;
    if (this.quiet) this.held.push(text);
    else this.write(text);
  }

  end(): void {
    if (this.res.destroyed) return;
    this.start();
    this.res.end();
  }

  fail(err: unknown): void {
    if (this.res.destroyed) return;
    for (const text of this.held) this.write(text);
    if (!this.started) {
      sendError(this.res, err);
      return;
    }
    const failure: BuildEvent = this.failure ?? { type: 'build-error', message: toEngineError(err).message, time: new Date().toISOString() };
    for (const m of renderEvent(failure)) this.write(encodeMessage(m));
    this.res.end();
  }

  private write(text: string): void {
    if (this.res.destroyed) return;
    this.start();
    this.res.write(text);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }
}

/** engine-api-facts §7.15: the query the CLI sends, into a typed request; what layerlab cannot honour is refused by name. */
export function parseBuildQuery(query: Query): BuildRequest {
  if (query.string('remote')) throw invalid('layerlab builds from an uploaded context only: remote contexts (Git or tarball URLs) are not supported');
  if (query.bool('squash')) throw invalid('squash is only supported with experimental mode');
  const version = query.string('version');
  if (version !== undefined && version !== '1') throw invalid(`layerlab has the classic builder only (version 1), not version ${version.slice(0, 20)}`);
  const cacheFrom = jsonValue(query, 'cachefrom', []);
  if (Array.isArray(cacheFrom) && cacheFrom.length > 0) throw invalid('--cache-from is not supported by layerlab yet: its builds use the local build cache only');
  return {
    tags: query.all('t'),
    buildArgs: stringMap(query, 'buildargs', true) as Record<string, string | null>,
    labels: stringMap(query, 'labels', false) as Record<string, string>,
    noCache: query.bool('nocache'),
    target: query.string('target') ?? '',
    rm: query.string('rm') === undefined ? true : query.bool('rm'),
    forceRm: query.bool('forcerm'),
    pull: query.bool('pull'),
    ...(query.string('dockerfile') ? { dockerfile: query.string('dockerfile')! } : {}),
    hostConfig: hostConfigOf(query),
  };
}

/** RUN containers: no network unless the build asked for one (`--network`), the requested limits, the engine's policy. */
function hostConfigOf(query: Query): HostConfig {
  for (const name of ['cpusetcpus', 'cpusetmems']) {
    if (query.string(name)) throw forbidden(`--${name.replace('cpuset', 'cpuset-')} is not supported in layerlab`);
  }
  const ulimits = jsonValue(query, 'ulimits', null);
  if (Array.isArray(ulimits) ? ulimits.length > 0 : ulimits !== null) throw forbidden('--ulimit is not supported in layerlab');
  const mode = query.string('networkmode') ?? '';
  const h: HostConfig = { NetworkMode: mode === '' || mode === 'default' ? 'none' : mode };
  const numbers: Array<[string, keyof HostConfig]> = [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuquota', 'CpuQuota'],
    ['cpuperiod', 'CpuPeriod'],
    ['shmsize', 'ShmSize'],
  ];
  for (const [param, field] of numbers) {
    const v = query.int(param, 0)!;
    if (v !== 0) h[field] = v;
  }
  if (query.string('cgroupparent')) h.CgroupParent = query.string('cgroupparent')!;
  if (query.all('extrahosts').length > 0) h.ExtraHosts = query.all('extrahosts');
  if (query.all('securityopt').length > 0) h.SecurityOpt = query.all('securityopt');
  return h;
}

function jsonValue(query: Query, name: string, fallback: unknown): unknown {
  const raw = query.string(name);
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw invalid(`invalid ${name} value: ${JSON.stringify(raw.slice(0, 100))}`);
  }
}

/** A JSON object of strings (`buildargs` may also hold null: an arg named without a value). */
function stringMap(query: Query, name: string, allowNull: boolean): Record<string, string | null> {
  const value = jsonValue(query, name, {});
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`invalid ${name} value: not a JSON object`);
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string' || (allowNull && v === null)) out[k] = v;
    else throw invalid(`invalid ${name} value for ${JSON.stringify(k.slice(0, 50))}`);
  }
  return out;
}
