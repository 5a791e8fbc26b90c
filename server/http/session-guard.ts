import type { IncomingMessage } from 'node:http';
import { SESSION_COOKIE } from '../protocol.ts';

/** The session token from the request's cookie header, if any (only our cookie's name is looked at). */
export function sessionToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The Set-Cookie value for a session: HttpOnly (page scripts never see the token), SameSite=Strict (no
 * other site's page can make the browser send it), no Max-Age (it dies with the browser session).
 */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * Whether a state-changing request or a WebSocket upgrade comes from our own page. Browsers always send
 * Origin on WebSocket upgrades and on cross-origin POSTs; a request without one is not from a browser page
 * (curl, tests) and carries no ambient authority beyond the cookie it chose to send.
 */
export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return allowed.has(origin);
}
