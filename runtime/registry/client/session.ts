import { EngineError } from '../../errors.ts';
import type { Credentials } from './credentials.ts';
import type { Endpoint } from './endpoint.ts';
import { fetchFor, type Fetch } from './netns-fetch.ts';

export interface RequestOptions {
  /** Token scopes the request needs (`repository:x:pull`). */
  scope?: string[];
  headers?: Record<string, string>;
  body?: Buffer | string | AsyncIterable<Uint8Array>;
  /** Statuses the caller handles itself instead of getting an error. */
  expect?: number[];
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Talks to one registry as one user, like moby's distribution client: answers Bearer challenges by getting
 * a token from the realm (Basic credentials when given, anonymous otherwise) and Basic challenges with the
 * credentials; tokens are cached per scope. Registry errors become `<code words>: <message>` texts.
 */
export class RegistrySession {
  private readonly tokens = new Map<string, string>();
  private challenge: Challenge | undefined;
  private readonly fetch: Fetch;

  constructor(
    readonly endpoint: Endpoint,
    private readonly creds: Credentials = {},
  ) {
    this.fetch = fetchFor(endpoint.netns);
  }

  url(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.endpoint.baseUrl}${pathOrUrl}`;
  }

  async request(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Response> {
    const url = this.url(pathOrUrl);
    let res = await this.send(method, url, opts);
    const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
    if (res.status === 401 && replayable) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (challenge && (await this.answer(challenge, opts.scope ?? []))) res = await this.send(method, url, opts);
    }
    if (res.ok || opts.expect?.includes(res.status)) return res;
    throw await responseError(res, method, url);
  }

  /** Get the auth for a scope ready before a request whose body cannot be sent twice. */
  async prepare(scope: string[]): Promise<void> {
    if (this.tokens.has(scope.join(' '))) return;
    await this.request('GET', '/v2/', { scope, expect: [401] });
  }

  private send(method: string, url: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': 'layerlab', ...opts.headers };
    const auth = this.authorization(opts.scope ?? []);
    if (auth) headers.Authorization = auth;
    const init = { method, headers, redirect: 'follow', ...(opts.body !== undefined ? { body: opts.body, duplex: 'half' } : {}) };
    return this.fetch(url, init as RequestInit).catch((err: unknown) => {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new EngineError('INTERNAL', `${method === 'HEAD' ? 'Head' : method === 'GET' ? 'Get' : method} "${url}": ${cause}`, { cause: err });
    });
  }

  private authorization(scope: string[]): string | undefined {
    if (this.creds.registrytoken) return `Bearer ${this.creds.registrytoken}`;
    const token = this.tokens.get(scope.join(' '));
    if (token) return `Bearer ${token}`;
    if (this.challenge?.scheme === 'basic' && this.creds.username) return basic(this.creds);
    return undefined;
  }

  /** True when the challenge could be answered (the request is then worth repeating). */
  private async answer(challenge: Challenge, scope: string[]): Promise<boolean> {
    this.challenge = challenge;
    // moby's words when a registry wants Basic auth and the CLI sent no login.
    if (challenge.scheme === 'basic' && this.creds.username === undefined) throw new EngineError('UNAUTHORIZED', 'no basic auth credentials');
    if (challenge.scheme === 'basic') return true;
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return false;
    this.tokens.set(scope.join(' '), await this.fetchToken(challenge.params, scope));
    return true;
  }

  /** The token dance (builder-facts §5.7): GET realm?service=&scope=&account= with Basic credentials. */
  async fetchToken(params: Record<string, string>, scope: string[], login = false): Promise<string> {
    const url = new URL(params.realm!);
    if (params.service) url.searchParams.set('service', params.service);
    for (const s of scope) url.searchParams.append('scope', s);
    if (this.creds.username) url.searchParams.set('account', this.creds.username);
    if (login) {
      url.searchParams.set('client_id', 'docker');
      url.searchParams.set('offline_token', 'true');
    }
    const headers: Record<string, string> = this.creds.username ? { Authorization: basic(this.creds) } : {};
    const res = await this.fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw await responseError(res, 'GET', `${this.endpoint.baseUrl}/v2/`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new EngineError('UNAUTHORIZED', `the token server at ${url.origin} answered without a token`);
    return token;
  }

  /** `docker login`: ping, then prove the credentials to whatever auth the registry asks for. */
  async login(): Promise<void> {
    const ping = await this.send('GET', this.url('/v2/'), {});
    if (ping.ok) return;
    const challenge = parseChallenge(ping.headers.get('www-authenticate'));
    if (ping.status !== 401 || !challenge) throw await responseError(ping, 'GET', this.url('/v2/'));
    this.challenge = challenge;
    if (challenge.scheme === 'bearer' && challenge.params.realm) this.tokens.set('', await this.fetchToken(challenge.params, [], true));
    const check = await this.send('GET', this.url('/v2/'), {});
    if (!check.ok) throw new EngineError('UNAUTHORIZED', `login attempt to ${this.url('/v2/')} failed with status: ${check.status} ${check.statusText}`);
  }
}

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64')}`;
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const m = /^(\w+)\s*(.*)$/.exec(header ?? '');
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

const STATUS_CODES: Record<number, EngineError['code']> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

/**
 * A registry error response as the docker daemon words it: `{"errors":[{code,message}]}` → `manifest
 * unknown: manifest unknown`; a token server's `{"details":…}` → `unauthorized: …`.
 */
export async function responseError(res: Response, method: string, url: string): Promise<EngineError> {
  const text = await res.text().catch(() => '');
  let message = '';
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }>; details?: string };
    if (body.details) message = `unauthorized: ${body.details}`;
    else if (body.errors?.length) message = body.errors.map((e) => `${(e.code ?? 'unknown').toLowerCase().replaceAll('_', ' ')}: ${e.message ?? ''}`).join(', ');
  } catch {
    message = '';
  }
  if (!message) message = `${method} ${url}: unexpected status ${res.status} ${res.statusText}`;
  else if (res.status === 401 && /\/v2\/$/.test(url)) message = `Get "${url}": ${message}`;
  return new EngineError(STATUS_CODES[res.status] ?? (res.status >= 500 ? 'INTERNAL' : 'INVALID'), message);
}
