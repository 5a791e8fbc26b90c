import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { ServerMessage, SessionInfo } from '../../server/protocol.ts';
import { CATALOG_DIR, DEFAULT_STATE_DIR, REPO_ROOT, waitFor } from './engine.ts';

/** The learner shell's prompt: it ends in `# ` or `$ ` after the working directory. */
export const PROMPT = /\/workspace[^\n]*[#$] $/m;

export interface TestServer {
  url: string;
  pid: number;
  stateDir: string;
  /** SIGTERM and wait (the server destroys every sandbox). */
  stop(): Promise<void>;
  /** SIGKILL (a crash): sandboxes are left behind for the next start to reap. */
  kill(): Promise<void>;
  /** Start again on the same state dir. */
  restart(): Promise<void>;
  /** Stop and remove the state dir. */
  dispose(): Promise<void>;
}

/**
 * Start the real web server (`server/cli.ts start`) on a fresh state dir and a free loopback port, sharing
 * the machine's catalog and tools. `extraArgs` go to its command line (e.g. `--max-sandboxes 1`).
 */
export async function startServer(name: string, extraArgs: string[] = []): Promise<TestServer> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `layerlab-${name}-`));
  const args = [
    'start', '--state-dir', stateDir, '--catalog-dir', CATALOG_DIR, '--tools-dir', path.join(DEFAULT_STATE_DIR, 'tools'),
    // --lazy-layers: no background extraction of the whole catalog into each throwaway state dir.
    '--skip-setup', '--lazy-layers', '--disk-quota', '64m', '--port', '0', '--host', '127.0.0.1', ...extraArgs,
  ];
  let child: ChildProcess;
  let url = '';
  const launch = async () => {
    ({ child, url } = await launchServer(args));
  };
  await launch();
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    get url() {
      return url;
    },
    get pid() {
      return child.pid!;
    },
    stateDir,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    restart: launch,
    async dispose() {
      await stop('SIGTERM');
      await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
}

async function launchServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/cli.ts'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  await waitFor(() => /^layerlab: listening on http:\/\/[\d.]+:\d+/m.test(stderr) || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr}`);
  return { child, url: /^layerlab: listening on (http:\/\/[\d.]+:\d+)/m.exec(stderr)![1]! };
}

/** A browser session without a browser: the cookie jar of one visitor, its API calls and its terminal socket. */
export class TestSession {
  cookie = '';

  constructor(readonly server: { url: string }) {}

  async fetch(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    if (!headers.has('origin')) headers.set('origin', this.server.url);
    const res = await fetch(`${this.server.url}${pathname}`, { ...init, headers, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }

  async open(): Promise<SessionInfo> {
    const res = await this.fetch('/api/session', { method: 'POST' });
    if (res.status !== 200) throw new Error(`POST /api/session: ${res.status} ${await res.text()}`);
    return (await res.json()) as SessionInfo;
  }

  terminal(): Promise<TestTerminal> {
    return TestTerminal.connect(this.server.url.replace(/^http/, 'ws') + '/api/ws', { cookie: this.cookie, origin: this.server.url });
  }
}

/** One terminal WebSocket: everything received, the terminal text so far, and typing. */
export class TestTerminal {
  readonly messages: ServerMessage[] = [];
  text = '';
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as ServerMessage;
      this.messages.push(m);
      if (m.type === 'output' || m.type === 'replay') this.text += m.data;
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static connect(url: string, headers: Record<string, string>): Promise<TestTerminal> {
    const ws = new WebSocket(url, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestTerminal(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  type(data: string): void {
    this.ws.send(JSON.stringify({ type: 'input', data }));
  }

  /** Wait until the terminal text (ANSI sequences removed) matches; returns the text after `from`. */
  async waitForText(pattern: RegExp, opts: { from?: number; timeoutMs?: number } = {}): Promise<string> {
    const from = opts.from ?? 0;
    await waitFor(() => pattern.test(plain(this.text.slice(from))), opts.timeoutMs ?? 20_000).catch(() => {
      throw new Error(`terminal never showed ${pattern}; it shows:\n${plain(this.text.slice(from)).slice(-2000)}`);
    });
    return plain(this.text.slice(from));
  }

  /** Type a command line and wait for its output to match. */
  async run(command: string, expect: RegExp, timeoutMs = 30_000): Promise<string> {
    const from = this.text.length;
    this.type(`${command}\r`);
    return this.waitForText(expect, { from, timeoutMs });
  }

  close(): void {
    this.ws.close();
  }
}

/** Terminal text without ANSI escape sequences and carriage returns. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r/g, '');
}
