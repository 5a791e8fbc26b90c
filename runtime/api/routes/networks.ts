import type { Engine } from '../../engine.ts';
import { conflict, invalid } from '../../errors.ts';
import type { NetworkCreateOptions, NetworkFilters } from '../../network/index.ts';
import { readJsonBody, sendEmpty, sendJson } from '../http.ts';
import { checkFilterNames, type Query } from '../query.ts';
import type { Router } from '../router.ts';

interface CreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

interface ConnectBody {
  Container?: string;
  EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null;
  Force?: boolean;
}

/** `docker network ls/inspect/create/rm/connect/disconnect/prune` over the engine's NetworkManager. */
export function networkRoutes(router: Router, engine: Engine): void {
  const net = engine.network;
  const emit = (action: string, idOrName: string, extra: Record<string, string> = {}) => {
    const n = net.inspectNetwork(idOrName) as { Id: string; Name: string; Driver: string };
    engine.events.emit('network', action, n.Id, { ...extra, name: n.Name, type: n.Driver });
  };
  router.on('GET', '/networks', ({ res, query }) => sendJson(res, 200, net.listNetworks(networkFilters(query))));
  router.on('POST', '/networks/create', async ({ req, res }) => {
    const created = await net.createNetwork(createOptions((await readJsonBody<CreateBody>(req)) ?? {}));
    emit('create', created.Id);
    sendJson(res, 201, created);
  });
  router.on('POST', '/networks/prune', async ({ res, query }) => {
    const deleted: string[] = [];
    for (const n of net.listNetworks({ ...networkFilters(query, ['label', 'until']), type: ['custom'] }) as Array<{ Id: string; Name: string; Driver: string }>) {
      const removed = await net.removeNetwork(n.Id).then(() => true, () => false);
      if (!removed) continue;
      engine.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
      deleted.push(n.Name);
    }
    sendJson(res, 200, { NetworksDeleted: deleted });
  });
  router.on('GET', /^\/networks\/([^/]+)$/, ({ res, params }) => sendJson(res, 200, net.inspectNetwork(params[0]!)));
  router.on('DELETE', /^\/networks\/([^/]+)$/, async ({ res, params }) => {
    const n = net.inspectNetwork(params[0]!) as { Id: string; Name: string; Driver: string };
    await net.removeNetwork(n.Id);
    engine.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    sendEmpty(res, 204);
  });
  router.on('POST', /^\/networks\/([^/]+)\/(connect|disconnect)$/, async ({ req, res, params }) => {
    const body = (await readJsonBody<ConnectBody>(req)) ?? {};
    if (!body.Container) throw invalid('no container specified');
    const { record, state } = engine.containers.inspect(body.Container);
    const id = record.Id;
    if (!state.Running) {
      throw conflict(`container ${record.Name.slice(1)} is not running: layerlab connects running containers only (start it first, or give --network when creating it)`);
    }
    if (params[1] === 'connect') {
      const ep = body.EndpointConfig ?? {};
      const ip = ep.IPAMConfig?.IPv4Address;
      await net.attach(id, params[0]!, { ...(ep.Aliases ? { aliases: ep.Aliases } : {}), ...(ip ? { ipv4Address: ip } : {}) });
    } else {
      await net.detach(id, params[0]!);
    }
    emit(params[1]!, params[0]!, { container: id });
    sendEmpty(res, 200);
  });
}

function createOptions(body: CreateBody): NetworkCreateOptions {
  if (!body.Name) throw invalid('network name must not be empty');
  if (body.EnableIPv6) throw invalid('IPv6 networks are not supported in layerlab');
  const ipam = body.IPAM?.Config ?? [];
  if (ipam.length > 1) throw invalid('only one IPAM config (one --subnet) is supported in layerlab');
  const cfg = ipam[0];
  return {
    name: body.Name,
    ...(body.Driver ? { driver: body.Driver } : {}),
    ...(cfg?.Subnet ? { subnet: cfg.Subnet } : {}),
    ...(cfg?.Gateway ? { gateway: cfg.Gateway } : {}),
    internal: body.Internal === true,
    attachable: body.Attachable === true,
    labels: body.Labels ?? {},
    options: body.Options ?? {},
  };
}

/** `filters` of `GET /networks` as NetworkFilters. */
function networkFilters(query: Query, allowed = ['name', 'id', 'driver', 'type', 'label', 'dangling', 'scope']): NetworkFilters {
  const f = query.filters();
  checkFilterNames(f, allowed);
  const out: NetworkFilters = {};
  for (const key of ['name', 'id', 'driver', 'label'] as const) {
    const v = f.get(key);
    if (v) out[key] = v;
  }
  const type = f.get('type');
  if (type) {
    for (const t of type) if (t !== 'custom' && t !== 'builtin') throw invalid(`invalid filter: 'type'='${t}'`);
    out.type = type as Array<'custom' | 'builtin'>;
  }
  const dangling = f.get('dangling');
  if (dangling) out.dangling = dangling.includes('true') || dangling.includes('1');
  return out;
}
