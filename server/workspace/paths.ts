import { WorkspaceError } from './errors.ts';

/** Longest workspace-relative path accepted, in bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Deepest path accepted, in components: every level of a walk holds a descriptor. */
export const MAX_DEPTH = 64;
const MAX_NAME_BYTES = 255;

/**
 * Split a learner-supplied workspace path into its components, refusing everything that is not a plain
 * relative path: absolute paths, `.` and `..`, empty components (`a//b`, trailing `/`), NUL bytes, and
 * over-long names. Purely lexical; the walk then makes sure no component is a link.
 */
export function splitPath(path: unknown): string[] {
  if (typeof path !== 'string' || path === '') throw invalid('a path is required');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw invalid('path too long');
  if (path.includes('\0')) throw invalid('path contains a NUL byte');
  if (path.startsWith('/')) throw invalid(`${JSON.stringify(path)} is absolute; paths are relative to the workspace`);
  const parts = path.split('/');
  if (parts.length > MAX_DEPTH) throw invalid(`${JSON.stringify(path)} is nested more than ${MAX_DEPTH} levels deep`);
  for (const part of parts) {
    if (part === '') throw invalid(`${JSON.stringify(path)} has an empty component`);
    if (part === '.' || part === '..') throw invalid(`${JSON.stringify(path)} contains ${part}`);
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) throw invalid(`${JSON.stringify(path)} has a name longer than ${MAX_NAME_BYTES} bytes`);
  }
  return parts;
}

function invalid(message: string): WorkspaceError {
  return new WorkspaceError(400, message);
}
