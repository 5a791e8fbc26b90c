import { conflict } from '../errors.ts';
import type { NamespaceState } from '../store/namespace.ts';
import { shortId, type Digest } from '../util/digest.ts';
import type { ContainersUsingImage } from './context.ts';
import { noSuchImage } from './get-image.ts';
import { canonicalString, familiarString, parseReference, repositoryOf } from './reference.ts';
import { childrenIn, deleteRef, refsOf, type ImageRef } from './refs.ts';

/** One line of `docker rmi` / `docker image prune` output. */
export type DeleteRecord = { Untagged: string } | { Deleted: string };

export interface DeleteOptions {
  /** `-f`: remove the image even when other tags or a stopped container refer to it. */
  force: boolean;
  /** Not `--no-prune`: also delete untagged parents that nothing else needs. */
  prune: boolean;
}

// dockerd's conflict classes (image_delete.go): children and running containers are hard, the rest soft.
const CHILD = 1;
const RUNNING = 2;
const REFERENCE = 4;
const STOPPED = 8;
const HARD = CHILD | RUNNING;
const SOFT = REFERENCE | STOPPED;

interface Conflict {
  error: Error;
  /** The conflict is a container using the image. */
  used: boolean;
}

/**
 * dockerd's ImageDelete on a namespace state draft. `input` is what the user typed and `id` what it
 * resolved to. A name untags that reference (and same-repository digests once no tag of that repository
 * is left); the image itself goes when no reference remains. An ID prefix untags everything when all
 * references are in one repository. Every conflict is raised before the draft is changed.
 */
export function deleteImage(draft: NamespaceState, id: Digest, input: string, opts: DeleteOptions, users: ContainersUsingImage): DeleteRecord[] {
  if (!draft.images[id]) throw noSuchImage(input);
  const records: DeleteRecord[] = [];
  let refs = refsOf(draft, id);
  if (isImageIdPrefix(id, input)) {
    if (isSingleReference(refs)) {
      const found = findConflict(draft, id, opts.force ? HARD : HARD | STOPPED, users);
      if (found) throw found.error;
      for (const r of refs) untag(draft, r, records);
    }
    deleteHelper(draft, id, records, opts, false, users);
    return records;
  }
  if (!opts.force && isSingleReference(refs)) {
    const user = users(id)[0];
    if (user) {
      throw conflict(
        `conflict: unable to remove repository reference ${JSON.stringify(input)} (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(id)}`,
      );
    }
  }
  const parsed = parseReference(input);
  const named = parsed.tag === undefined && !parsed.digest ? { ...parsed, tag: 'latest' } : parsed;
  const key = canonicalString(named);
  if (named.digest) delete draft.digests[key];
  else delete draft.tags[key];
  records.push({ Untagged: familiarString(named) });
  refs = refsOf(draft, id);
  if (!named.digest) refs = dropOrphanDigests(draft, refs, repositoryOf(named), records);
  if (refs.length > 0) return records;
  deleteHelper(draft, id, records, opts, true, users);
  return records;
}

/** After untagging, digest references of a repository with no tag left go too. Returns what remains. */
function dropOrphanDigests(draft: NamespaceState, refs: ImageRef[], repository: string, records: DeleteRecord[]): ImageRef[] {
  if (refs.some((r) => !r.digested && r.repository === repository)) return refs;
  const remaining: ImageRef[] = [];
  for (const r of refs) {
    if (r.digested && r.repository === repository) untag(draft, r, records);
    else remaining.push(r);
  }
  return remaining;
}

/**
 * Delete the image unless a conflict forbids it, then (with prune) its parents that nothing else needs.
 * `quiet` ignores conflicts of an image that still has a use (the parent walk, or a name-only delete).
 */
function deleteHelper(draft: NamespaceState, id: Digest, records: DeleteRecord[], opts: DeleteOptions, quiet: boolean, users: ContainersUsingImage): void {
  const found = findConflict(draft, id, opts.force ? HARD : HARD | SOFT, users);
  if (found) {
    if (quiet && (!isDangling(draft, id) || found.used)) return;
    throw found.error;
  }
  const parent = draft.images[id]?.parent;
  for (const r of refsOf(draft, id)) untag(draft, r, records);
  // No image names this one as parent: children are a hard conflict above.
  delete draft.images[id];
  records.push({ Deleted: id });
  if (opts.prune && parent && draft.images[parent]) deleteHelper(draft, parent, records, { force: false, prune: true }, true, users);
}

function findConflict(draft: NamespaceState, id: Digest, mask: number, users: ContainersUsingImage): Conflict | undefined {
  if (mask & CHILD && childrenIn(draft, id).length > 0) return deleteConflict(id, true, false, 'image has dependent child images');
  const containers = mask & (RUNNING | STOPPED) ? users(id) : [];
  const running = mask & RUNNING ? containers.find((c) => c.running) : undefined;
  if (running) return deleteConflict(id, true, true, `image is being used by running container ${shortId(running.id)}`);
  if (mask & REFERENCE && refsOf(draft, id).length > 0) return deleteConflict(id, false, false, 'image is referenced in multiple repositories');
  const stopped = mask & STOPPED ? containers.find((c) => !c.running) : undefined;
  if (stopped) return deleteConflict(id, false, true, `image is being used by stopped container ${shortId(stopped.id)}`);
  return undefined;
}

function deleteConflict(id: Digest, hard: boolean, used: boolean, message: string): Conflict {
  const force = hard ? 'cannot be forced' : 'must be forced';
  return { error: conflict(`conflict: unable to delete ${shortId(id)} (${force}) - ${message}`), used };
}

function untag(draft: NamespaceState, ref: ImageRef, records: DeleteRecord[]): void {
  deleteRef(draft, ref);
  records.push({ Untagged: ref.familiar });
}

/** No references and no children. */
function isDangling(draft: NamespaceState, id: Digest): boolean {
  return refsOf(draft, id).length === 0 && childrenIn(draft, id).length === 0;
}

/** True when the references are all in one repository with at most one tag; false for none. */
export function isSingleReference(refs: readonly ImageRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageRef | undefined;
  const digestRepos = new Set<string>();
  for (const r of refs) {
    if (r.digested) digestRepos.add(r.repository);
    else if (single) return false;
    else single = r;
  }
  return digestRepos.size === 1 && digestRepos.has((single ?? refs[0]!).repository);
}

/** dockerd treats the input as an ID when it is a prefix of the ID, with or without `sha256:`. */
export function isImageIdPrefix(id: Digest, input: string): boolean {
  return id.startsWith(input) || id.slice('sha256:'.length).startsWith(input);
}
