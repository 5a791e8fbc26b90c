import { invalid } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { Credentials } from './credentials.ts';
import { hostOfServerAddress, resolveEndpoint } from './endpoint.ts';
import { RegistrySession } from './session.ts';

/**
 * `docker login`: prove the credentials to the registry (token or Basic auth) and report Docker's
 * `Login Succeeded`. The engine keeps nothing: the CLI stores the credentials and sends them with every
 * push and pull. On the hub, a new username registers itself here when the hub allows it.
 */
export async function login(store: Store, creds: Credentials, hostNetns?: string): Promise<{ Status: string; IdentityToken: string }> {
  if (!creds.username) throw invalid('username is required');
  const session = new RegistrySession(resolveEndpoint(store, hostOfServerAddress(creds.serveraddress), hostNetns), creds);
  await session.login();
  return { Status: 'Login Succeeded', IdentityToken: '' };
}

/** One `docker search` result (moby api/types/registry SearchResult). */
export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

export interface SearchOptions {
  term: string;
  limit?: number;
  /** `stars`, `is-official`, `is-automated` filters, applied here as the daemon does. */
  filters?: { stars?: number; isOfficial?: boolean; isAutomated?: boolean };
  credentials?: Credentials;
}

/**
 * `docker search`: `GET /v1/search?q=&n=` on the registry named by the term's prefix (`127.0.0.1:5000/x`),
 * the hub otherwise (builder-facts §5.8).
 */
export async function searchImages(store: Store, opts: SearchOptions, hostNetns?: string): Promise<SearchResult[]> {
  const limit = opts.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be between 1 and 100');
  const slash = opts.term.indexOf('/');
  const first = slash === -1 ? '' : opts.term.slice(0, slash);
  const qualified = first.includes('.') || first.includes(':') || first === 'localhost';
  const host = qualified ? first : 'docker.io';
  const query = qualified ? opts.term.slice(slash + 1) : opts.term;
  const session = new RegistrySession(resolveEndpoint(store, host, hostNetns), opts.credentials);
  await session.request('GET', '/v1/_ping', { expect: [404] });
  const res = await session.request('GET', `/v1/search?q=${encodeURIComponent(query)}&n=${limit}`, { headers: { 'X-Docker-Token': 'true' }, expect: [404] });
  if (!res.ok) throw invalid(`Unexpected status code ${res.status}`);
  const body = (await res.json()) as { results?: SearchResult[] };
  const f = opts.filters ?? {};
  return (body.results ?? []).filter(
    (r) => (f.stars === undefined || r.star_count >= f.stars) && (f.isOfficial === undefined || r.is_official === f.isOfficial) && (f.isAutomated === undefined || r.is_automated === f.isAutomated),
  );
}
