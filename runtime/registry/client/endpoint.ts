import { invalid } from '../../errors.ts';
import { DEFAULT_DOMAIN } from '../../image/reference.ts';
import type { Store } from '../../store/store.ts';
import { isLoopbackHost } from './netns-fetch.ts';

/** Where a registry host is reached and how. */
export interface Endpoint {
  /** `http://127.0.0.1:5000` or `https://registry.example`. */
  baseUrl: string;
  /** The name Docker prints (`docker.io`, `localhost:5000`). */
  host: string;
  /** A loopback registry of a sandbox engine: reached inside this netns (the sandbox's host), see netns-fetch.ts. */
  netns?: string;
}

const hubs = new WeakMap<Store, string>();

/**
 * Tell the engines over a store where the embedded hub listens (`127.0.0.1:<port>`): `docker.io` names
 * then resolve to it. Set once by whoever started the hub.
 */
export function attachHub(store: Store, address: string): void {
  hubs.set(store, address);
}

/** The hub address attached to a store, if any. */
export function hubAddressOf(store: Store): string | undefined {
  return hubs.get(store);
}

/** Server addresses the CLI uses for Docker Hub (`docker login` with no argument sends the first). */
const HUB_ALIASES = new Set(['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io']);

/** Normalise a login/search server address to a registry host (`docker.io` for the hub's aliases). */
export function hostOfServerAddress(address: string | undefined): string {
  if (!address || HUB_ALIASES.has(address)) return DEFAULT_DOMAIN;
  return address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

/**
 * Resolve a registry host: `docker.io` is the embedded hub; loopback hosts (`localhost:5000`,
 * `127.0.0.1:5000` — the engine's host namespace, so a sandbox's netns when `hostNetns` is given) speak
 * plain HTTP, as Docker treats 127.0.0.0/8 as insecure; every other registry is HTTPS.
 */
export function resolveEndpoint(store: Store, host: string, hostNetns?: string): Endpoint {
  if (host === DEFAULT_DOMAIN) {
    const hub = hubs.get(store);
    if (!hub) throw invalid('the embedded registry is not running, so docker.io names cannot be pulled or pushed');
    return { baseUrl: `http://${hub}`, host };
  }
  const hostname = host.replace(/:\d+$/, '');
  // Link-local addresses hold cloud metadata services: never a registry the engine should talk to.
  if (/^169\.254\.\d+\.\d+$/.test(hostname) || /^\[fe[89ab]/i.test(hostname)) throw invalid(`refusing to contact a link-local address as a registry: ${host}`);
  const loopback = isLoopbackHost(hostname);
  return { baseUrl: `${loopback ? 'http' : 'https'}://${host}`, host, ...(loopback && hostNetns !== undefined ? { netns: hostNetns } : {}) };
}
