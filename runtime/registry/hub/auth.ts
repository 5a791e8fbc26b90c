import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { HubState } from './hub-state.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

/** One granted scope entry of a token (distribution's `access` claim). */
export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

interface Token {
  account?: string;
  access: Access[];
  expires: number;
}

const TOKEN_TTL_S = 300;
const USERNAME_RE = /^[a-z0-9][a-z0-9_-]{1,29}$/;
const MAX_TOKENS = 10_000;

export type LoginResult = { ok: true; account: string } | { ok: false; reason: string };

/**
 * Accounts and tokens of the hub (token auth, builder-facts §5.7). Tokens are opaque random strings only
 * this hub can validate, held in memory; they expire after five minutes. Passwords are stored as scrypt
 * hashes with a per-user salt. With self-registration on, the first login of an unknown name creates it.
 */
export class HubAuth {
  private readonly tokens = new Map<string, Token>();

  constructor(
    private readonly state: HubState,
    private readonly selfRegister: boolean,
  ) {}

  /** Check a username and password, registering a new name when allowed. */
  async login(username: string, password: string): Promise<LoginResult> {
    const user = this.state.snapshot.users[username];
    if (user && Object.hasOwn(this.state.snapshot.users, username)) {
      const hash = await scrypt(password, user.salt, 32);
      return timingSafeEqual(hash, Buffer.from(user.hash, 'hex')) ? { ok: true, account: username } : { ok: false, reason: 'incorrect username or password' };
    }
    if (!this.selfRegister) return { ok: false, reason: 'incorrect username or password' };
    if (!USERNAME_RE.test(username)) return { ok: false, reason: 'a new username must be 2-30 characters of a-z, 0-9, _ or - (lowercase, like Docker Hub names)' };
    if (password.length < 4) return { ok: false, reason: 'a new account needs a password of at least 4 characters' };
    const salt = randomBytes(16).toString('hex');
    const hash = (await scrypt(password, salt, 32)).toString('hex');
    const created = await this.state.update((draft) => {
      if (Object.hasOwn(draft.users, username)) return false;
      draft.users[username] = { salt, hash, created: new Date().toISOString() };
      return true;
    });
    // Two first logins raced: the other one registered the name, so check against it.
    return created ? { ok: true, account: username } : this.login(username, password);
  }

  /**
   * What an account (or an anonymous client) may do with the requested scopes: everyone pulls every
   * repository; only `<account>/…` repositories may be pushed to or deleted from.
   */
  grant(account: string | undefined, scopes: string[]): Access[] {
    const granted: Access[] = [];
    for (const scope of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
      const parts = scope.split(':');
      if (parts.length < 3) continue;
      const type = parts[0]!;
      const actions = parts[parts.length - 1]!.split(',');
      const name = parts.slice(1, -1).join(':');
      if (type === 'registry' && name === 'catalog') granted.push({ type, name, actions: ['*'] });
      if (type !== 'repository') continue;
      const owner = account !== undefined && name.split('/')[0] === account;
      const allowed = actions.filter((a) => a === 'pull' || (owner && (a === 'push' || a === 'delete' || a === '*')));
      granted.push({ type, name, actions: allowed });
    }
    return granted;
  }

  issue(account: string | undefined, access: Access[]): { token: string; expiresIn: number } {
    if (this.tokens.size >= MAX_TOKENS) this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { ...(account !== undefined ? { account } : {}), access, expires: Date.now() + TOKEN_TTL_S * 1000 });
    return { token, expiresIn: TOKEN_TTL_S };
  }

  /** The token behind a bearer string, if valid and unexpired. */
  verify(token: string): Token | undefined {
    const found = this.tokens.get(token);
    if (!found) return undefined;
    if (found.expires < Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return found;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, t] of this.tokens) if (t.expires < now) this.tokens.delete(k);
    // Still full: drop the oldest, so a flood of token requests cannot grow memory without bound.
    for (const k of this.tokens.keys()) {
      if (this.tokens.size < MAX_TOKENS) break;
      this.tokens.delete(k);
    }
  }
}

/** True when a token allows `action` on `type:name`. */
export function allows(access: Access[], type: Access['type'], name: string, action: string): boolean {
  return access.some((a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
}

/** Username and password from an `Authorization: Basic` header. */
export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
