/**
 * The browser ↔ server protocol: HTTP JSON bodies and WebSocket messages. This file is the only thing web/
 * may import from server/ (types only), so it holds no code with runtime dependencies.
 *
 * HTTP (every /api route but POST /api/session needs the session cookie; state-changing requests and the
 * WebSocket upgrade also need an allowed Origin):
 *   POST   /api/session                 create or resume this browser's sandbox → SessionInfo (503 Full when full,
 *                                        429 when this client address already holds its share of sandboxes)
 *   POST   /api/sandbox/reset           destroy and recreate the sandbox → SessionInfo
 *   GET    /api/files                   the workspace tree → FileEntry[]
 *   GET    /api/file?path=P             one file → FileContent
 *   PUT    /api/file?path=P             save (body: the UTF-8 text; creates the file) → FileEntry
 *   POST   /api/files/mkdir?path=P      create a directory → FileEntry
 *   POST   /api/files/rename            body RenameRequest → FileEntry
 *   DELETE /api/file?path=P             delete a file or (recursively) a directory → 204
 *   GET    /api/lessons                 LessonSummary[]
 *   GET    /api/lessons/:slug           Lesson
 *   POST   /api/lessons/:slug/start     copy the lesson's starter files into the workspace → Lesson
 *   GET    /api/ports                   PublishedPort[]
 *   ANY    /preview/:port/…             the sandbox's localhost:port (HTTP and WebSocket), cookie-authenticated
 *   WS     /api/ws                      ClientMessage / ServerMessage as JSON text frames
 * Errors are `{ "message": string }` with a 4xx/5xx status.
 */

/** Name of the HttpOnly cookie that carries the session token. */
export const SESSION_COOKIE = 'layerlab_session';
/** Largest WebSocket message and HTTP body (file save) the server accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface SessionInfo {
  /** A short, non-secret name for the sandbox (shown in the UI); the secret token stays in the cookie. */
  sandboxId: string;
  createdAt: string;
  /** When the sandbox is destroyed whatever happens (maximum lifetime). */
  expiresAt: string;
  /** Idle time after which the sandbox is destroyed; a warning comes `idleWarningSeconds` before. */
  idleTimeoutSeconds: number;
  idleWarningSeconds: number;
  /** The workspace directory as the shell and the docker CLI see it. */
  workspacePath: string;
}

/** The 503 body when every sandbox slot is taken. */
export interface Full {
  message: string;
  retryAfterSeconds: number;
}

export interface FileEntry {
  /** Relative to the workspace, `/`-separated, never starting with `/` or containing `..`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
}

export type FileContent =
  | { path: string; kind: 'text'; content: string; mtimeMs: number }
  | { path: string; kind: 'binary' | 'too-large'; size: number; mtimeMs: number };

export interface RenameRequest {
  from: string;
  to: string;
}

export interface LessonSummary {
  slug: string;
  title: string;
  summary: string;
}

export interface Lesson extends LessonSummary {
  /** The lesson text (Markdown); the browser renders and sanitizes it. */
  markdown: string;
  /** Starter files (workspace-relative) the lesson copies into the workspace. */
  files: string[];
}

export interface PublishedPort {
  /** The sandbox's host port: `localhost:<hostPort>` in the terminal, /preview/<hostPort>/ in the browser. */
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  containerName: string;
}

export type ClientMessage =
  /** Keystrokes or pasted text for the shell. */
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  /** The learner is active (resets the idle timer without typing, e.g. editing files). */
  | { type: 'activity' };

export type ServerMessage =
  /** Recent terminal output, sent once right after connecting (scrollback restore). */
  | { type: 'replay'; data: string }
  | { type: 'output'; data: string }
  | { type: 'session'; session: SessionInfo }
  /** The sandbox will be destroyed in `secondsLeft` unless the learner does something. */
  | { type: 'idle-warning'; secondsLeft: number }
  /** The sandbox is gone (timeout, lifetime, reset elsewhere, server shutdown); the page should reconnect or reload. */
  | { type: 'sandbox-ended'; reason: 'idle' | 'lifetime' | 'reset' | 'shutdown' }
  /** The shell exited; a new one starts and its output follows. */
  | { type: 'shell-restarted'; exitCode: number }
  /** Workspace paths changed on disk (from the terminal or another tab). */
  | { type: 'files-changed'; paths: string[] }
  | { type: 'ports'; ports: PublishedPort[] }
  | { type: 'error'; message: string };
