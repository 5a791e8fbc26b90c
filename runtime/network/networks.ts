import { randomBytes } from 'node:crypto';
import { EngineError, conflict, forbidden, invalid, notFound } from '../errors.ts';
import type { NetState, NetworkRecord } from './state.ts';

/** Options of `docker network create`, already parsed from the request body. */
export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** Filters of `docker network ls --filter` (each list is OR'ed, the kinds are AND'ed, like dockerd). */
export interface NetworkFilters {
  name?: string[];
  id?: string[];
  driver?: string[];
  type?: Array<'custom' | 'builtin'>;
  label?: string[];
  dangling?: boolean;
}

export const PREDEFINED = ['bridge', 'host', 'none'] as const;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function isPredefined(net: NetworkRecord): boolean {
  return (PREDEFINED as readonly string[]).includes(net.name);
}

/** True for networks whose containers resolve each other by name (user-defined bridge networks). */
export function resolvesNames(net: NetworkRecord): boolean {
  return net.driver === 'bridge' && net.name !== 'bridge';
}

/** Find a network as dockerd does: exact ID, then exact name, then a unique ID prefix. */
export function findNetwork(state: NetState, idOrName: string): NetworkRecord {
  const nets = state.networks;
  const hit = nets.find((n) => n.id === idOrName) ?? nets.find((n) => n.name === idOrName);
  if (hit) return hit;
  const byPrefix = /^[0-9a-f]+$/.test(idOrName) ? nets.filter((n) => n.id.startsWith(idOrName)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw invalid(`network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
  throw notFound(`network ${idOrName} not found`);
}

/** Validate create options that do not depend on addressing; returns the driver. */
export function checkCreate(state: NetState, opts: NetworkCreateOptions): 'bridge' {
  if (!NAME_RE.test(opts.name)) {
    throw invalid(`invalid network name ${JSON.stringify(opts.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most 64 characters`);
  }
  if (state.networks.some((n) => n.name === opts.name)) throw conflict(`network with name ${opts.name} already exists`);
  const driver = opts.driver || 'bridge';
  if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
  if (driver !== 'bridge') throw new EngineError('NOT_FOUND', `plugin "${driver}" not found`);
  return driver;
}

export function newRecord(name: string, driver: NetworkRecord['driver'], extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: newId(),
    name,
    driver,
    created: new Date().toISOString(),
    userSubnet: false,
    internal: false,
    attachable: false,
    labels: {},
    options: {},
    ...extra,
  };
}

/** Containers currently attached to a network: endpoints of running containers. */
export function attachedCount(state: NetState, networkId: string): number {
  return Object.values(state.containers).filter((c) => c.endpoints.some((e) => e.networkId === networkId)).length;
}

export function matchesFilters(state: NetState, net: NetworkRecord, f: NetworkFilters): boolean {
  const builtin = isPredefined(net);
  const checks = [
    !f.name?.length || f.name.some((s) => net.name.includes(s)),
    !f.id?.length || f.id.some((s) => net.id.startsWith(s)),
    !f.driver?.length || f.driver.includes(net.driver),
    !f.type?.length || f.type.includes(builtin ? 'builtin' : 'custom'),
    !f.label?.length || f.label.every((l) => matchesLabel(net.labels, l)),
    f.dangling === undefined || f.dangling === (!builtin && attachedCount(state, net.id) === 0),
  ];
  return checks.every(Boolean);
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
