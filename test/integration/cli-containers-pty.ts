import path from 'node:path';
import pty from 'node-pty';
import { DOCKER_20, waitFor, type TestEngine } from '../helpers/engine.ts';

/** The docker CLI on a real pseudo-terminal, as a learner's terminal runs it (for -it, detach keys, resize). */
export class PtyDocker {
  output = '';
  exitCode: number | undefined;
  private readonly term: pty.IPty;

  constructor(engine: TestEngine, args: string[], cli = DOCKER_20) {
    this.term = pty.spawn(cli, args, {
      name: 'xterm',
      cols: 100,
      rows: 30,
      env: { PATH: process.env.PATH ?? '', HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: path.join(engine.stateDir, 'docker-config') },
    });
    this.term.onData((d) => (this.output += d));
    this.term.onExit(({ exitCode }) => (this.exitCode = exitCode));
  }

  write(text: string): void {
    this.term.write(text);
  }

  /** Wait until the terminal has shown `text` (after `from`, an index into output). */
  async expect(text: string | RegExp, from = 0, timeoutMs = 20_000): Promise<void> {
    const seen = () => (typeof text === 'string' ? this.output.indexOf(text, from) >= 0 : text.test(this.output.slice(from)));
    try {
      await waitFor(seen, timeoutMs);
    } catch {
      throw new Error(`terminal never showed ${String(text)}; it showed ${JSON.stringify(this.output)}`);
    }
  }

  async exited(timeoutMs = 20_000): Promise<number> {
    await waitFor(() => this.exitCode !== undefined, timeoutMs);
    return this.exitCode!;
  }

  kill(): void {
    if (this.exitCode === undefined) this.term.kill();
  }
}
