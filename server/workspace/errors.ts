/**
 * A workspace operation refused or failed for a reason the learner caused; `status` is the HTTP status the
 * web layer answers with (400 invalid path or type, 404 missing, 409 exists, 413 too large).
 */
export class WorkspaceError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

/** Turn the errno of a failed workspace syscall into a WorkspaceError; anything unexpected is rethrown. */
export function fromErrno(err: unknown, path: string): WorkspaceError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new WorkspaceError(404, `${path}: no such file or directory`);
    case 'ENOTDIR':
      return new WorkspaceError(404, `${path}: a component of the path is not a directory`);
    case 'ELOOP':
      return new WorkspaceError(400, `${path}: the path goes through a symbolic link`);
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new WorkspaceError(409, `${path}: already exists`);
    case 'EISDIR':
      return new WorkspaceError(400, `${path}: is a directory`);
    case 'EINVAL':
      return new WorkspaceError(400, `${path}: invalid operation`);
    case 'ENXIO':
      return new WorkspaceError(400, `${path}: not a regular file`);
    case 'ENAMETOOLONG':
      return new WorkspaceError(400, `${path}: name too long`);
    default:
      throw err;
  }
}
