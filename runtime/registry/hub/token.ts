import { allows, parseBasic, type Access } from './auth.ts';
import { send, sendJson, type HubContext, type HubRequest } from './context.ts';
import { RegistryError } from '../distribution.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HUB_SERVICE = 'layerlab-hub';

/**
 * `GET /token` (the realm of the hub's Bearer challenge): Basic credentials, when sent, must be right;
 * without them the client gets an anonymous token (pull only). The answer holds only granted actions.
 */
export async function tokenRoute(hub: HubContext, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
  const creds = parseBasic(req.headers.authorization);
  let account: string | undefined;
  if (creds) {
    const login = await hub.auth.login(creds.username, creds.password);
    // The docker daemon prints the `details` text of a 401 from the token server (builder-facts §5.7).
    if (!login.ok) return sendJson(res, 401, { details: login.reason });
    account = login.account;
  }
  const access = hub.auth.grant(account, url.searchParams.getAll('scope'));
  const { token, expiresIn } = hub.auth.issue(account, access);
  sendJson(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
}

/** The action a registry request needs on its repository (cancelling an upload is part of pushing). */
export function actionFor(method: string, rest: string): string {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' && !rest.startsWith('blobs/uploads/') ? 'delete' : 'push';
}

/**
 * Check the request's bearer token against the scope it needs. No valid token → 401 with a challenge naming
 * the scope (the client fetches a token and retries); a valid token without the action → 403 DENIED.
 */
export function authorize(hub: HubContext, req: IncomingMessage, scope?: { type: Access['type']; name: string; action: string }): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const token = bearer ? hub.auth.verify(bearer) : undefined;
  if (!token) return false;
  if (scope && !allows(token.access, scope.type, scope.name, scope.action)) {
    // A detail keeps docker's client from shortening the error to its bare code ("denied").
    throw new RegistryError('DENIED', [{ Type: scope.type, Class: '', Name: scope.name, Action: scope.action }]);
  }
  return true;
}

/** The 401 that starts the token dance. */
export function challenge(hub: HubContext, r: Pick<HubRequest, 'res'>, scope?: string): void {
  const header = `Bearer realm="${hub.baseUrl}/token",service="${HUB_SERVICE}"${scope ? `,scope="${scope}"` : ''}`;
  const err = new RegistryError('UNAUTHORIZED');
  const body = `${JSON.stringify(err.body())}\n`;
  send(r.res, 401, { 'Content-Type': 'application/json', 'WWW-Authenticate': header }, body);
}
