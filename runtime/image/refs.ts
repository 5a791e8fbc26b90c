import type { NamespaceState } from '../store/namespace.ts';
import type { Digest } from '../util/digest.ts';
import { familiarString, parseReference, repositoryOf, type Reference } from './reference.ts';

/** One name (tag or digest reference) a namespace gives an image. */
export interface ImageRef {
  /** The store's key, e.g. `docker.io/library/busybox:latest`. */
  canonical: string;
  ref: Reference;
  /** What the CLI shows, e.g. `busybox:latest`. */
  familiar: string;
  /** Canonical repository, e.g. `docker.io/library/busybox` (reference.Named's Name()). */
  repository: string;
  digested: boolean;
}

/** Every reference to an image, sorted by canonical string as dockerd's reference store returns them. */
export function refsOf(state: Readonly<NamespaceState>, id: Digest): ImageRef[] {
  const keys = [
    ...Object.entries(state.tags).filter(([, v]) => v === id),
    ...Object.entries(state.digests).filter(([, v]) => v === id),
  ].map(([k]) => k);
  return keys.sort(compareStrings).map(toImageRef);
}

/** Build an ImageRef from a canonical key. */
export function toImageRef(canonical: string): ImageRef {
  const ref = parseReference(canonical);
  return { canonical, ref, familiar: familiarString(ref), repository: repositoryOf(ref), digested: ref.digest !== undefined };
}

/** Byte-wise comparison, like Go's string `<`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Remove one reference from a state draft (idempotent, like the reference store's Delete). */
export function deleteRef(draft: NamespaceState, ref: ImageRef): void {
  if (ref.digested) delete draft.digests[ref.canonical];
  else delete draft.tags[ref.canonical];
}

/** Images that name `id` as their parent (dockerd's image store Children). */
export function childrenIn(state: Readonly<NamespaceState>, id: Digest): Digest[] {
  return (Object.keys(state.images) as Digest[]).filter((k) => state.images[k]?.parent === id);
}
