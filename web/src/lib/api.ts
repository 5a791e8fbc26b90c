/** Typed fetch wrappers for the server's HTTP routes (server/protocol.ts). Same origin, cookie-authenticated. */
import type {
  FileContent,
  FileEntry,
  Full,
  Lesson,
  LessonSummary,
  PublishedPort,
  RenameRequest,
  SessionInfo,
} from '../../../server/protocol.ts';

/** An HTTP error with the server's `{ message }` and status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

async function request<T>(method: string, url: string, body?: BodyInit, type?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (type) headers['content-type'] = type;
  const res = await fetch(url, { method, body, headers, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const message = isMessage(parsed) ? parsed.message : `${method} ${url} failed: ${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, parsed);
  }
  return parsed as T;
}

function isMessage(v: unknown): v is { message: string } {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

const q = (path: string): string => `?path=${encodeURIComponent(path)}`;
const json = (v: unknown): [string, string] => [JSON.stringify(v), 'application/json'];

/** The session result: the sandbox, or the "every slot is taken" answer. */
export type SessionResult = { ok: true; session: SessionInfo } | { ok: false; full: Full & { perClient: boolean } };

/** Creates or resumes this browser's sandbox; 503: the server is full, 429: this address holds its share. */
export async function startSession(): Promise<SessionResult> {
  try {
    return { ok: true, session: await request<SessionInfo>('POST', '/api/session') };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 503 || err.status === 429)) {
      const body = err.body as Partial<Full> | undefined;
      const retry = typeof body?.retryAfterSeconds === 'number' ? body.retryAfterSeconds : 60;
      return { ok: false, full: { message: err.message, retryAfterSeconds: retry, perClient: err.status === 429 } };
    }
    throw err;
  }
}

/** Destroys and recreates the sandbox. */
export const resetSandbox = (): Promise<SessionInfo> => request('POST', '/api/sandbox/reset');
/** The whole workspace tree, flat. */
export const listFiles = (): Promise<FileEntry[]> => request('GET', '/api/files');
/** One file's content (or why it is not shown as text). */
export const readFile = (path: string): Promise<FileContent> => request('GET', `/api/file${q(path)}`);
/** Saves (or creates) a text file. */
export const writeFile = (path: string, content: string): Promise<FileEntry> =>
  request('PUT', `/api/file${q(path)}`, content, 'text/plain; charset=utf-8');
/** Creates a directory. */
export const makeDir = (path: string): Promise<FileEntry> => request('POST', `/api/files/mkdir${q(path)}`);
/** Renames a file or directory. */
export const renamePath = (req: RenameRequest): Promise<FileEntry> => request('POST', '/api/files/rename', ...json(req));
/** Deletes a file or a directory with its contents. */
export const deletePath = (path: string): Promise<void> => request('DELETE', `/api/file${q(path)}`);
/** Every lesson, in order. */
export const listLessons = (): Promise<LessonSummary[]> => request('GET', '/api/lessons');
/** One lesson with its Markdown. */
export const getLesson = (slug: string): Promise<Lesson> => request('GET', `/api/lessons/${encodeURIComponent(slug)}`);
/** Copies a lesson's starter files into the workspace. */
export const startLesson = (slug: string): Promise<Lesson> =>
  request('POST', `/api/lessons/${encodeURIComponent(slug)}/start`);
/** The sandbox's published ports. */
export const listPorts = (): Promise<PublishedPort[]> => request('GET', '/api/ports');

/** A short human message for any error thrown by these calls. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
