/** The workspace tree from GET /api/files (flat entries) and the checks for names the learner types. */
import type { FileEntry } from '../../../server/protocol.ts';

/** A node of the displayed tree: directories first, then files, each sorted by name. */
export interface TreeNode {
  name: string;
  path: string;
  type: FileEntry['type'];
  children: TreeNode[];
}

/** Builds the nested tree; entries whose parent directory is missing from the list get one made up. */
export function buildTree(entries: FileEntry[]): TreeNode[] {
  const root: TreeNode = { name: '', path: '', type: 'dir', children: [] };
  const dirs = new Map<string, TreeNode>([['', root]]);
  const dirFor = (path: string): TreeNode => {
    const found = dirs.get(path);
    if (found) return found;
    const slash = path.lastIndexOf('/');
    const node: TreeNode = { name: path.slice(slash + 1), path, type: 'dir', children: [] };
    dirFor(slash < 0 ? '' : path.slice(0, slash)).children.push(node);
    dirs.set(path, node);
    return node;
  };
  for (const e of [...entries].sort((a, b) => a.path.split('/').length - b.path.split('/').length)) {
    if (!e.path || dirs.has(e.path)) continue;
    if (e.type === 'dir') {
      dirFor(e.path);
      continue;
    }
    const slash = e.path.lastIndexOf('/');
    dirFor(slash < 0 ? '' : e.path.slice(0, slash)).children.push({
      name: e.path.slice(slash + 1),
      path: e.path,
      type: e.type,
      children: [],
    });
  }
  sortTree(root);
  return root.children;
}

function sortTree(node: TreeNode): void {
  node.children.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
  node.children.forEach(sortTree);
}

/** The directory part of a path ('' for the top level). */
export const dirname = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
/** The last segment of a path. */
export const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
/** Joins a directory and a relative path. */
export const join = (dir: string, rel: string): string => (dir ? `${dir}/${rel}` : rel);
/** Whether `path` is `dir` itself or inside it ('' is the workspace root, which holds everything). */
export const within = (path: string, dir: string): boolean => dir === '' || path === dir || path.startsWith(dir + '/');

/**
 * Checks a workspace-relative path the learner typed (the server checks again; this only gives early,
 * friendly errors). Returns an error message, or null when fine.
 */
export function checkPath(path: string, existing: ReadonlySet<string>): string | null {
  if (path === '') return 'Enter a name.';
  if (path.startsWith('/')) return 'Use a path relative to the workspace (no leading /).';
  if (path.length > 1024) return 'That path is too long.';
  if (/[\0-\x1f\x7f\\]/.test(path)) return 'Names cannot contain control characters or backslashes.';
  const parts = path.split('/');
  if (parts.some((p) => p === '')) return 'Remove the empty segment (//) or trailing slash.';
  if (parts.some((p) => p === '.' || p === '..')) return 'Names cannot be . or ..';
  if (parts.some((p) => p.length > 255)) return 'A name is longer than 255 characters.';
  if (existing.has(path)) return 'Something with that name already exists.';
  return null;
}
