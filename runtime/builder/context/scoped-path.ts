import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrno } from '../../errors.ts';
import { goClean } from './gomatch.ts';

const MAX_LINKS = 255;

/** True when a relative path climbs out of its root lexically (`../x`, `a/../../x`). */
export function escapesRoot(rel: string): boolean {
  const clean = goClean(`./${rel}`);
  return clean === '..' || clean.startsWith('../');
}

/**
 * Resolve `rel` inside `root` the way moby's FollowSymlinkInScope does: every symlink met on the way is
 * followed *within* the root (absolute targets start again at the root, `..` stops at the root), so no
 * path can lead outside. Components that do not exist are kept as written. Returns the resolved path
 * relative to the root ('' for the root itself). The caller must check escapesRoot first: a path that
 * climbs out lexically is an error in Docker, not something to clamp.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const resolved: string[] = [];
  let pending = rel.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part].join('/');
    let st;
    try {
      st = await fs.lstat(path.join(root, candidate));
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
      // The rest does not exist: finish lexically, still clamped at the root.
      const rest = goClean(['.', ...resolved, part, ...pending].join('/')).replace(/^(\.\.(\/|$))+/, '');
      return rest === '.' ? '' : rest;
    }
    if (!st.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many links in ${rel}`);
    const target = await fs.readlink(path.join(root, candidate));
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/'), ...pending];
  }
  return resolved.join('/');
}
