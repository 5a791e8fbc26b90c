import { EngineError, invalid } from '../errors.ts';
import type { ImageContext } from './context.ts';
import { untyped } from './filters.ts';
import { getImage, noSuchImage } from './get-image.ts';
import { canonicalString, familiarName, familiarString, parseReference, type Reference } from './reference.ts';

const TAG = /^[\w][\w.-]{0,127}$/;
const FULL_HEX = /^[a-f0-9]{64}$/;

/**
 * `docker tag SOURCE REPO[:TAG]` (dockerd's TagImage): `repo` and `tag` arrive as separate query values.
 * An existing tag moves to the new image (the API always forces). Returns the familiar new reference.
 */
export async function tagImage(ctx: ImageContext, source: string, repo: string, tag: string): Promise<string> {
  const { id } = getImage(ctx.ns, source);
  const target = newTag(repo, tag);
  const key = canonicalString(target);
  const now = new Date().toISOString();
  await ctx.ns.update((draft) => {
    const entry = draft.images[id];
    // Deleted between the lookup and this update.
    if (!entry) throw noSuchImage(source);
    draft.tags[key] = id;
    entry.lastTagTime = now;
  });
  return familiarString(target);
}

/** Parse the new name; dockerd reports malformed names as untyped (500) errors, policy refusals as 400. */
function newTag(repo: string, tag: string): Reference {
  if (FULL_HEX.test(repo)) throw untyped(`invalid repository name (${repo}), cannot specify 64-byte hexadecimal strings`);
  let ref: Reference;
  try {
    ref = parseReference(repo);
  } catch (err) {
    throw err instanceof EngineError ? untyped(err.message) : err;
  }
  if (tag !== '') {
    if (!TAG.test(tag)) throw untyped('invalid tag format');
    ref = { domain: ref.domain, path: ref.path, tag };
  }
  if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
  if (familiarName(ref) === 'sha256') throw invalid('refusing to create an ambiguous tag using digest algorithm as name');
  return ref.tag === undefined ? { ...ref, tag: 'latest' } : ref;
}
