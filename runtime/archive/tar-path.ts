import { invalid } from '../errors.ts';

const MAX_PATH = 4096;
const MAX_COMPONENT = 255;

/**
 * Normalise a tar entry name to a relative path with no `.`/empty components and no trailing slash.
 * Rejects what could land outside the root: absolute names and any `..` component. Returns '' for the
 * archive's root entry (`./`).
 */
export function normaliseEntryPath(name: string, what = 'archive entry'): string {
  if (name.includes('\0')) throw invalid(`${what} name contains a NUL byte`);
  if (name.startsWith('/')) throw invalid(`${what} has an absolute path: ${quote(name)}`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalid(`${what} escapes the destination: ${quote(name)}`);
    if (part.length > MAX_COMPONENT) throw invalid(`${what} has a path component longer than ${MAX_COMPONENT} bytes`);
    parts.push(part);
  }
  const joined = parts.join('/');
  if (joined.length > MAX_PATH) throw invalid(`${what} path is longer than ${MAX_PATH} bytes`);
  return joined;
}

/** Every proper ancestor of a normalised path, nearest to the root first: `a/b/c` → `a`, `a/b`. */
export function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  let i = p.indexOf('/');
  while (i !== -1) {
    out.push(p.slice(0, i));
    i = p.indexOf('/', i + 1);
  }
  return out;
}

export function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}
