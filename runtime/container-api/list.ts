import { primaryNetwork } from '../container-network.ts';
import type { ContainerRecord, ContainerState } from '../container/types.ts';
import type { Engine } from '../engine.ts';
import { invalid } from '../errors.ts';
import { matchKVList, validateFilters, type Filters } from '../image/filters.ts';
import { tryResolveImage } from '../image/lookup.ts';
import { unixSeconds } from '../image/go-time.ts';
import { mountsJson } from '../volume/mount-points.ts';
import { containerSizes, networkSettingsJson } from './inspect.ts';
import { commandString, statusString, timeMs } from './status.ts';

export interface ListOptions {
  all?: boolean;
  /** -1 or 0: no limit (`docker stats` sends limit=0). */
  limit?: number;
  size?: boolean;
  filters?: Filters;
}

type Entry = { record: ContainerRecord; state: ContainerState };

const ACCEPTED = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'network'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** `docker ps`: newest first, stopped ones only with `all` (or a limit, or a status filter), then filtered. */
export async function listContainers(engine: Engine, opts: ListOptions): Promise<Array<Record<string, unknown>>> {
  const filters = opts.filters ?? new Map<string, readonly string[]>();
  validateFilters(filters, ACCEPTED);
  for (const s of filters.get('status') ?? []) if (!STATUSES.includes(s)) throw invalid(`Invalid filter 'status=${s}'`);
  const all = engine.containers.list().sort((a, b) => timeMs(b.record.Created) - timeMs(a.record.Created) || (b.record.Id < a.record.Id ? -1 : 1));
  const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined;
  const showStopped = opts.all === true || limit !== undefined || filters.has('status') || filters.has('exited');
  const bounds = boundaries(engine, filters);
  const picked = all.filter((e, i) => (showStopped || e.state.Running) && bounds(e, i, all) && matches(engine, e, filters));
  const out: Array<Record<string, unknown>> = [];
  for (const e of picked.slice(0, limit)) out.push(await summary(engine, e, opts.size === true));
  return out;
}

/** `before`/`since`: containers created before or after the named one (by position in the newest-first list). */
function boundaries(engine: Engine, filters: Filters): (e: Entry, i: number, all: Entry[]) => boolean {
  const at = (key: string) => {
    const ref = filters.get(key)?.[0];
    return ref === undefined ? undefined : engine.containers.inspect(ref).record.Id;
  };
  const before = at('before');
  const since = at('since');
  return (_e, i, all) => {
    const pos = (id: string | undefined) => all.findIndex((x) => x.record.Id === id);
    if (before !== undefined && i <= pos(before)) return false;
    if (since !== undefined && i >= pos(since)) return false;
    return true;
  };
}

function anyOf(values: readonly string[] | undefined, test: (v: string) => boolean): boolean {
  return !values || values.length === 0 || values.some(test);
}

function matches(engine: Engine, { record, state }: Entry, f: Filters): boolean {
  const name = record.Name.slice(1);
  return (
    anyOf(f.get('id'), (v) => record.Id.startsWith(v)) &&
    anyOf(f.get('name'), (v) => safeRegex(v).test(name)) &&
    matchKVList(f.get('label'), record.Config.Labels) &&
    anyOf(f.get('status'), (v) => v === state.Status) &&
    anyOf(f.get('exited'), (v) => !state.Running && state.Status === 'exited' && String(state.ExitCode) === v) &&
    anyOf(f.get('network'), (v) => primaryNetwork(record) === v) &&
    anyOf(f.get('ancestor'), (v) => tryResolveImage(engine.ns, v)?.id === record.Image)
  );
}

/** Docker matches `name` as a regular expression; an invalid one is taken literally. */
function safeRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

/** Ports of `docker ps`: every published binding, and exposed but unpublished ports without IP/PublicPort. */
function portsOf(settings: Record<string, unknown>): Array<Record<string, unknown>> {
  const map = (settings.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  const out: Array<Record<string, unknown>> = [];
  for (const [key, bindings] of Object.entries(map)) {
    const [port, proto = 'tcp'] = key.split('/');
    if (!bindings) out.push({ PrivatePort: Number(port), Type: proto });
    for (const b of bindings ?? []) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}

async function summary(engine: Engine, { record, state }: Entry, size: boolean): Promise<Record<string, unknown>> {
  const settings = networkSettingsJson(engine, record, state.Running);
  const out: Record<string, unknown> = {
    Id: record.Id,
    Names: [record.Name],
    Image: record.Config.Image,
    ImageID: record.Image,
    Command: commandString(record.Path, record.Args),
    Created: unixSeconds(record.Created),
    Ports: portsOf(settings),
  };
  if (size) Object.assign(out, await containerSizes(engine, record, engine.containers.pathsOf(record.Id)));
  Object.assign(out, {
    Labels: record.Config.Labels ?? {},
    State: state.Status,
    Status: statusString(state),
    HostConfig: { NetworkMode: record.HostConfig.NetworkMode || 'default' },
    NetworkSettings: { Networks: settings.Networks },
    Mounts: mountsJson(record),
  });
  return out;
}
