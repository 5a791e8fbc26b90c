import { RegistryError } from '../distribution.ts';
import { paginate, sendJson, type HubContext, type HubRequest } from './context.ts';
import type { ServerResponse } from 'node:http';

/** `GET /v2/<name>/tags/list`: tags in lexical order, paginated. */
export function tagsList(r: HubRequest): void {
  const repo = r.hub.state.repo(r.name);
  if (!repo) throw new RegistryError('NAME_UNKNOWN', { name: r.name });
  const tags = Object.keys(repo.tags).sort();
  const { page, link } = paginate(tags, r.url);
  sendJson(r.res, 200, { name: r.name, tags: tags.length === 0 ? null : page }, link ? { Link: link } : {});
}

/** `GET /v2/_catalog`: repositories that hold at least one manifest, paginated. */
export function catalogList(hub: HubContext, url: URL, res: ServerResponse): void {
  const names = Object.entries(hub.state.snapshot.repos)
    .filter(([, repo]) => Object.keys(repo.manifests).length > 0)
    .map(([name]) => name)
    .sort();
  const { page, link } = paginate(names, url);
  sendJson(res, 200, { repositories: page }, link ? { Link: link } : {});
}

const MAX_RESULTS = 100;

/**
 * `GET /v1/search?q=&n=` (what `docker search` calls, builder-facts §5.8): repositories with a tag whose name
 * or description contains the query. `library/x` is shown as `x` and is official, as on Docker Hub.
 */
export function search(hub: HubContext, url: URL, res: ServerResponse): void {
  const query = (url.searchParams.get('q') ?? '').toLowerCase();
  const n = Math.min(MAX_RESULTS, Math.max(1, Number(url.searchParams.get('n')) || 25));
  const results = Object.entries(hub.state.snapshot.repos)
    .filter(([name, repo]) => Object.keys(repo.tags).length > 0 && (name.includes(query) || (repo.description ?? '').toLowerCase().includes(query)))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, n)
    .map(([name, repo]) => {
      const official = name.startsWith('library/');
      return { name: official ? name.slice('library/'.length) : name, description: repo.description ?? '', star_count: 0, is_official: official, is_automated: false };
    });
  sendJson(res, 200, { num_results: results.length, query, results });
}
