/** Credentials as the CLI sends them in `X-Registry-Auth` (base64url JSON of an AuthConfig). */
export interface Credentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

const MAX_HEADER = 16 * 1024;

/** Decode an `X-Registry-Auth` header; anything unreadable counts as no credentials, like moby. */
export function decodeRegistryAuth(header: string | undefined): Credentials {
  if (!header || header.length > MAX_HEADER) return {};
  try {
    const value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const v = value as Record<string, unknown>;
    const pick = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? { [k]: v[k] as string } : {});
    return { ...pick('username'), ...pick('password'), ...pick('identitytoken'), ...pick('registrytoken'), ...pick('serveraddress') };
  } catch {
    return {};
  }
}
