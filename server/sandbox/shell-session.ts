import { StringDecoder } from 'node:string_decoder';
import type { ShellProcess } from '../../runtime/index.ts';
import type { ServerMessage } from '../protocol.ts';
import { Scrollback } from './scrollback.ts';

export type StartShell = (cols: number, rows: number) => Promise<ShellProcess>;

const SCROLLBACK_CHARS = 256 * 1024;
/** A shell that dies again within this long after a restart is not restarted in a tight loop. */
const RESTART_BACKOFF_MS = 1000;

/**
 * The learner's terminal: one shell container shared by every tab of the sandbox. Output goes to every
 * attached tab and into the scrollback; input from any tab goes to the shell. When the shell exits (the
 * learner typed `exit`), a new one starts, so the terminal is never dead.
 */
export class ShellSession {
  private readonly scrollback = new Scrollback(SCROLLBACK_CHARS);
  private shell: ShellProcess | undefined;
  private size = { cols: 80, rows: 24 };
  private closed = false;
  private lastStart = 0;

  private constructor(
    private readonly startShell: StartShell,
    /** Sends a message to every tab of the sandbox. */
    private readonly broadcast: (message: ServerMessage) => void,
  ) {}

  /** Start the first shell; resolves once it runs (its prompt follows as output). */
  static async start(startShell: StartShell, broadcast: (message: ServerMessage) => void): Promise<ShellSession> {
    const session = new ShellSession(startShell, broadcast);
    await session.spawn();
    return session;
  }

  /** Everything the shell printed recently (what a new tab is shown first). */
  recentOutput(): string {
    return this.scrollback.text();
  }

  input(data: string): void {
    this.shell?.write(data);
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.shell?.resize(cols, rows);
  }

  /** Kill the shell for good (the sandbox is going away). */
  async close(): Promise<void> {
    this.closed = true;
    const shell = this.shell;
    this.shell = undefined;
    await shell?.kill();
  }

  private async spawn(): Promise<void> {
    this.lastStart = Date.now();
    const shell = await this.startShell(this.size.cols, this.size.rows);
    if (this.closed) {
      await shell.kill();
      return;
    }
    this.shell = shell;
    const decoder = new StringDecoder('utf8');
    shell.onData((chunk) => this.output(decoder.write(chunk)));
    void shell.exited.then((code) => this.onExit(shell, code));
  }

  private output(text: string): void {
    if (!text) return;
    this.scrollback.push(text);
    this.broadcast({ type: 'output', data: text });
  }

  private async onExit(shell: ShellProcess, exitCode: number): Promise<void> {
    if (this.closed || this.shell !== shell) return;
    this.shell = undefined;
    this.broadcast({ type: 'shell-restarted', exitCode });
    const wait = Math.max(0, RESTART_BACKOFF_MS - (Date.now() - this.lastStart));
    await new Promise((r) => setTimeout(r, wait));
    if (this.closed) return;
    try {
      await this.spawn();
    } catch (err) {
      this.broadcast({ type: 'error', message: `the shell could not be restarted: ${(err as Error).message}` });
    }
  }
}
