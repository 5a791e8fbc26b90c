import { notFound } from '../errors.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Digest } from '../util/digest.ts';
import { canonicalString, parseReference, type Reference } from './reference.ts';

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

export interface Resolved {
  id: Digest;
  /** The reference the input named, when it was a name rather than an ID. */
  ref?: Reference;
}

/**
 * Find an image in a namespace the way dockerd does: a full ID, then a name (a missing tag means
 * `latest`), then a unique ID prefix. Throws `No such image: <input>` (the daemon's 404 text).
 */
export function resolveImage(ns: Namespace, input: string): Resolved {
  const found = tryResolveImage(ns, input);
  if (!found) throw notFound(`No such image: ${input}`);
  return found;
}

export function tryResolveImage(ns: Namespace, input: string): Resolved | undefined {
  const full = FULL_ID.exec(input);
  if (full) {
    const id = `sha256:${full[1]}` as Digest;
    return ns.hasImage(id) ? { id } : undefined;
  }
  let ref: Reference | undefined;
  try {
    ref = parseReference(input);
  } catch {
    ref = undefined;
  }
  if (ref) {
    const named = ref.digest ? ns.lookupDigest(canonicalString({ ...ref, tag: undefined })) : ns.lookupTag(canonicalString({ ...ref, tag: ref.tag ?? 'latest' }));
    if (named) return { id: named, ref };
  }
  const prefix = ID_PREFIX.exec(input);
  if (prefix) {
    const matches = ns.imageIds().filter((id) => id.startsWith(`sha256:${prefix[1]}`));
    if (matches.length === 1) return { id: matches[0]! };
  }
  return undefined;
}
