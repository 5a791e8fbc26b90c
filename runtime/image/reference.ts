import { invalid } from '../errors.ts';
import { isDigest, type Digest } from '../util/digest.ts';

/**
 * Docker image references, normalised the way the docker CLI and daemon do (distribution/reference):
 * `busybox` → `docker.io/library/busybox:latest`, `localhost:5000/x` keeps its domain.
 */
export interface Reference {
  /** Registry host (`docker.io` for unqualified names). */
  domain: string;
  /** Repository path inside the registry (`library/busybox`). */
  path: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const NAME_MAX = 255;

/** Parse a familiar or full reference (`name[:tag][@digest]`). Throws Docker's own error texts. */
export function parseReference(input: string): Reference {
  if (input.length === 0 || input.length > 1024) throw invalid('invalid reference format');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid('invalid reference format');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    if (!TAG.test(tag)) throw invalid('invalid reference format');
    rest = rest.slice(0, lastColon);
  }
  const { domain, path } = splitDomain(rest);
  const components = path.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      if (COMPONENT.test(c.toLowerCase())) throw invalid('invalid reference format: repository name must be lowercase');
      throw invalid('invalid reference format');
    }
  }
  if (`${domain}/${path}`.length > NAME_MAX) throw invalid(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Parse and add `:latest` when neither tag nor digest is given (what `docker pull x` means). */
export function parseTaggedReference(input: string): Reference {
  const ref = parseReference(input);
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let path = name;
  if (slash !== -1) {
    const first = name.slice(0, slash);
    // As distribution/reference in Docker 20.10: an uppercase first component is not a domain (so `UPPER/x` is
    // a repository name, refused for its case).
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      if (!DOMAIN.test(first)) throw invalid('invalid reference format');
      domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
      path = name.slice(slash + 1);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  return { domain, path };
}

/** `docker.io/library/busybox` → `busybox`; `docker.io/learner/app` → `learner/app`; others unchanged. */
export function familiarName(ref: Pick<Reference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith(OFFICIAL_PREFIX) && ref.path.split('/').length === 2 ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
}

/** The familiar string form: `busybox:latest`, `localhost:5000/x@sha256:…`. */
export function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The canonical key the store uses: `docker.io/library/busybox:latest` or `…@sha256:…`. */
export function canonicalString(ref: Reference): string {
  return `${ref.domain}/${ref.path}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Repository part of a canonical key (everything before `:tag` / `@digest`). */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}
