import { notFound } from '../errors.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Digest } from '../util/digest.ts';
import { canonicalString, familiarName, parseReference, repositoryOf, type Reference } from './reference.ts';

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;

/**
 * Which images `docker save <names…>` means, and under which tags, following moby's tarexporter parseNames:
 * a full ID names an image without tags; `name:tag` one tag; a bare repository name every tag (and digest)
 * of that repository, or else an ID prefix; `name@digest` the image without adding a tag. Insertion order
 * follows the arguments.
 */
export function resolveSaveNames(ns: Namespace, names: string[]): Map<Digest, Reference[]> {
  const images = new Map<Digest, Reference[]>();
  const add = (id: Digest, ref?: Reference) => {
    const refs = images.get(id) ?? [];
    images.set(id, refs);
    if (ref?.tag !== undefined && !refs.some((r) => canonicalString(r) === canonicalString(ref))) refs.push(ref);
  };
  for (const name of names) {
    const full = FULL_ID.exec(name);
    if (full) {
      const id = `sha256:${full[1]}` as Digest;
      if (!ns.hasImage(id)) throw notFound(`No such image: ${id}`);
      add(id);
      continue;
    }
    const ref = parseReference(name);
    if (familiarName(ref) === 'sha256' || (ref.tag === undefined && ref.digest === undefined)) {
      const named = familiarName(ref) === 'sha256' ? [] : byRepository(ns, ref);
      if (named.length === 0) add(searchId(ns, name));
      for (const [r, id] of named) add(id, r);
      continue;
    }
    const id = ref.digest ? ns.lookupDigest(canonicalString({ ...ref, tag: undefined })) : ns.lookupTag(canonicalString(ref));
    if (!id) throw notFound('reference does not exist');
    add(id, ref.digest ? undefined : ref);
  }
  return images;
}

/** Every tag and digest of one repository, sorted like moby's reference store returns them. */
function byRepository(ns: Namespace, ref: Reference): Array<[Reference, Digest]> {
  const repo = repositoryOf(ref);
  const { tags, digests } = ns.snapshot();
  const found: Array<[string, Digest]> = [];
  for (const [key, id] of Object.entries(tags)) if (key.slice(0, key.lastIndexOf(':')) === repo) found.push([key, id]);
  for (const [key, id] of Object.entries(digests)) if (key.slice(0, key.indexOf('@')) === repo) found.push([key, id]);
  found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return found.map(([key, id]) => [parseReference(key), id]);
}

/** moby's image store Search: a unique ID prefix, with or without `sha256:`. */
function searchId(ns: Namespace, term: string): Digest {
  const hex = term.replace(/^sha256:/, '');
  const matches = /^[a-f0-9]+$/.test(hex) ? ns.imageIds().filter((id) => id.startsWith(`sha256:${hex}`)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw notFound(`ambiguous image ID prefix: ${term}`);
  throw notFound(`No such image: ${term}`);
}
