import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import type { EngineEvent } from '../../events.ts';
import { listContainers } from '../../container-api/list.ts';
import { containersUsingImage } from '../../container-api/usage.ts';
import { goJson } from '../../image/config.ts';
import { imageDiskUsage } from '../../image/disk-usage.ts';
import { checkFilterNames } from '../query.ts';
import type { Router } from '../router.ts';

const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'network', 'volume', 'label'];

/** `docker events` (a live JSON stream, §7.34) and `docker system df` (§7.27). */
export function systemEventRoutes(router: Router, engine: Engine): void {
  router.on('GET', '/events', ({ req, res, query }) => {
    const filters = query.filters();
    checkFilterNames(filters, EVENT_FILTERS);
    const since = eventTime(query.string('since'), 'since');
    const until = eventTime(query.string('until'), 'until');
    const wanted = (e: EngineEvent) => matches(e, filters) && (since === undefined || e.timeNano >= since) && (until === undefined || e.timeNano <= until);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    // A client that went away mid-write must not become an unhandled error.
    res.on('error', () => undefined);
    const send = (e: EngineEvent) => {
      if (wanted(e) && !res.destroyed && !res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
    };
    // The past is replayed only when asked for (`--since`), as dockerd does.
    if (since !== undefined) for (const e of engine.events.recent()) send(e);
    const now = Date.now() * 1e6;
    if (until !== undefined && until <= now) {
      res.end();
      return;
    }
    const stop = engine.events.subscribe(send);
    const timer = until !== undefined ? setTimeout(() => res.end(), (until - now) / 1e6) : undefined;
    const done = () => {
      stop();
      if (timer) clearTimeout(timer);
    };
    req.on('close', done);
    res.on('close', done);
  });

  router.on('GET', '/system/df', async ({ res }) => {
    const images = await imageDiskUsage({ store: engine.store, ns: engine.ns, containersUsingImage: containersUsingImage(engine.containers) });
    const containers = await listContainers(engine, { all: true, size: true });
    const volumes = await engine.volumes.usage();
    const text = `${goJson({ ...images, Containers: containers, Volumes: volumes, BuildCache: null, BuilderSize: 0 })}\n`;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
}

/** `since`/`until` as the CLI sends them: unix seconds, optionally with a 9-digit fraction; in ns. */
function eventTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) throw invalid(`invalid value for ${name}: ${JSON.stringify(value.slice(0, 40))}`);
  return Number(m[1]) * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
}

/** dockerd's events filter: every given kind must match; values within a kind are alternatives. */
function matches(e: EngineEvent, filters: Map<string, string[]>): boolean {
  const one = (key: string, test: (v: string) => boolean) => {
    const values = filters.get(key);
    return !values || values.some(test);
  };
  const attrs = e.Actor.Attributes;
  const idOrName = (type: string) => (v: string) => e.Type === type && (e.Actor.ID.startsWith(v) || attrs.name === v);
  return (
    one('type', (v) => e.Type === v) &&
    one('event', (v) => e.Action === v) &&
    one('container', idOrName('container')) &&
    one('network', idOrName('network')) &&
    one('volume', idOrName('volume')) &&
    one('image', (v) => attrs.image === v || e.Actor.ID === v || (e.Type === 'image' && attrs.name === v)) &&
    one('label', (v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in attrs : attrs[v.slice(0, i)] === v.slice(i + 1);
    })
  );
}
