import { notFound } from '../../errors.ts';
import { familiarName, type Reference } from '../../image/reference.ts';
import type { RegistrySession } from './session.ts';

const MAX_LIST = 1000;

/** Tags of a repository (`GET /v2/<name>/tags/list`); none when the registry does not know it. */
export async function listTags(session: RegistrySession, ref: Reference): Promise<string[]> {
  const res = await session.request('GET', `/v2/${ref.path}/tags/list?n=${MAX_LIST}`, { scope: [`repository:${ref.path}:pull`], expect: [404] });
  if (res.status === 404) {
    await res.body?.cancel();
    return [];
  }
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).filter((t) => typeof t === 'string').sort();
}

/** The hub's answer for a repository it does not have: what it does have (the catalog's wording). */
export async function notInHubError(session: RegistrySession, ref: Reference): Promise<Error> {
  const res = await session.request('GET', `/v2/_catalog?n=${MAX_LIST}`, { scope: ['registry:catalog:*'] }).catch(() => undefined);
  const repos = res ? (((await res.json()) as { repositories?: string[] }).repositories ?? []) : [];
  const names = repos.map((r) => familiarName({ domain: 'docker.io', path: r }));
  const name = familiarName(ref);
  return notFound(`pull access denied for ${name}: layerlab works offline and ${name} is not in its image hub. Available images: ${names.join(', ') || '(none)'}`);
}
