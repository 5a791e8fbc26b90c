import { invalid } from '../errors.ts';
import { parseIp } from './ipv4.ts';
import type { PublishedPort } from './state.ts';

/**
 * What a container asks to publish: `-p [IP:][HOST[-HOST2]:]CONTAINER[/proto]`, `-p CONTAINER` and `-P`
 * all end up here. hostPortMin/Max 0 means "any free port".
 */
export interface PortRequest {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPortMin: number;
  hostPortMax: number;
}

/** Docker 20.10 hands out random host ports sequentially from here. */
export const RANDOM_PORT_MIN = 49153;
export const RANDOM_PORT_MAX = 65535;

/** Parse a port key as the CLI sends it in ExposedPorts / PortBindings: `80/tcp`, `53/udp`, `80`. */
export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) throw invalid(`invalid port specification: "${key}"`);
  if (m[2] === 'sctp') throw invalid('sctp ports are not supported');
  return { port, proto: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

function parseHostPort(text: string): [number, number] {
  if (text === '') return [0, 0];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const lo = m ? Number(m[1]) : 0;
  const hi = m?.[2] ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid hostPort: ${text}`);
  return [lo, hi];
}

function parseHostIp(text: string): string {
  if (text === '' || text === '0.0.0.0') return '';
  if (parseIp(text) === undefined) throw invalid(`invalid IP address: ${text}`);
  return text;
}

/**
 * Turn the create request's HostConfig.PortBindings, Config.ExposedPorts and HostConfig.PublishAllPorts
 * into port requests. The input is the learner's JSON, so every shape is checked.
 */
export function portRequestsFromConfig(portBindings: unknown, exposedPorts: unknown, publishAll: boolean): PortRequest[] {
  const out: PortRequest[] = [];
  const bindings = isObject(portBindings) ? portBindings : {};
  for (const [key, list] of Object.entries(bindings)) {
    const { port, proto } = parsePortKey(key);
    const entries = Array.isArray(list) && list.length > 0 ? list : [{}];
    for (const entry of entries) {
      const e = isObject(entry) ? entry : {};
      const [min, max] = parseHostPort(typeof e.HostPort === 'string' ? e.HostPort : '');
      out.push({ proto, containerPort: port, hostIp: parseHostIp(typeof e.HostIp === 'string' ? e.HostIp : ''), hostPortMin: min, hostPortMax: max });
    }
  }
  if (publishAll && isObject(exposedPorts)) {
    for (const key of Object.keys(exposedPorts)) {
      const { port, proto } = parsePortKey(key);
      if (!out.some((r) => r.containerPort === port && r.proto === proto)) {
        out.push({ proto, containerPort: port, hostIp: '', hostPortMin: 0, hostPortMax: 0 });
      }
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Two bindings clash when protocol and port match and their host addresses overlap ('' is every address). */
export function clashes(a: PublishedPort, proto: string, hostIp: string, hostPort: number): boolean {
  return a.proto === proto && a.hostPort === hostPort && (a.hostIp === '' || hostIp === '' || a.hostIp === hostIp);
}

/**
 * NetworkSettings.Ports as `docker port` and `docker ps` read it: every exposed or published port, mapped
 * to its bindings, or null when it is exposed but not published.
 */
export function portsMap(exposed: readonly string[], published: readonly PublishedPort[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of exposed) {
    const { port, proto } = parsePortKey(key);
    map[`${port}/${proto}`] = null;
  }
  for (const p of published) {
    const key = `${p.containerPort}/${p.proto}`;
    const list = map[key] ?? [];
    list.push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
    map[key] = list;
  }
  return map;
}

/** Ports something already listens on in the host netns, from `ss -Hln` output. */
export function parseListening(ssOutput: string): Set<number> {
  const ports = new Set<number>();
  for (const line of ssOutput.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const m = local ? /:(\d+)$/.exec(local) : null;
    if (m) ports.add(Number(m[1]));
  }
  return ports;
}
