/**
 * Errors are values with a stable code. Core modules throw EngineError; the API layer alone turns the code
 * into an HTTP status and Docker's `{"message": …}` body, so the message text is what the CLI prints.
 */
export type ErrorCode =
  | 'INVALID' // 400: the request or its input is malformed
  | 'UNAUTHORIZED' // 401
  | 'FORBIDDEN' // 403: refused by policy (sandbox escapes, quotas)
  | 'NOT_FOUND' // 404
  | 'CONFLICT' // 409: the object is in a state that forbids the operation
  | 'NOT_MODIFIED' // 304: nothing to do (start a running container, stop a stopped one)
  | 'INTERNAL' // 500
  | 'NOT_IMPLEMENTED' // 501
  | 'UNAVAILABLE'; // 503

const STATUS: Record<ErrorCode, number> = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_MODIFIED: 304,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
};

export class EngineError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export const invalid = (message: string, cause?: unknown) => new EngineError('INVALID', message, { cause });
export const notFound = (message: string, cause?: unknown) => new EngineError('NOT_FOUND', message, { cause });
export const conflict = (message: string, cause?: unknown) => new EngineError('CONFLICT', message, { cause });
export const forbidden = (message: string, cause?: unknown) => new EngineError('FORBIDDEN', message, { cause });

/** True for a Node system error with the given errno code (ENOENT, EEXIST, …). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
