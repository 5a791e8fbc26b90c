import { PassThrough, type Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { JsonLogWriter } from './json-log.ts';
import type { RuncProcess } from './runc.ts';

/** Streams a client attaches: any subset. With a TTY, stderr is never written (the terminal merges it). */
export interface AttachStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

export interface AttachHandle {
  /** Stop forwarding to and from this client; the container is unaffected. */
  detach(): void;
  /** Resolves when the run's output has ended (the container exited) and was delivered to this client. */
  done: Promise<void>;
}

/**
 * The stdio of one run of a container: output goes to the json-file log and to every attached client; stdin
 * (only with OpenStdin) is a buffer that exists before the process does, so input sent before start (piped
 * `docker run -i`) is delivered once it runs, and it stays open until a client closes it (StdinOnce).
 */
export class RunIo {
  private readonly clients = new Set<{ streams: AttachStreams; finished: () => void }>();
  readonly stdin: PassThrough | null;
  private ended = false;

  constructor(
    readonly tty: boolean,
    openStdin: boolean,
    private readonly stdinOnce: boolean,
  ) {
    this.stdin = openStdin ? new PassThrough() : null;
  }

  attach(streams: AttachStreams): AttachHandle {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const client = { streams, finished };
    if (this.ended) {
      finished();
      return { detach: () => undefined, done };
    }
    this.clients.add(client);
    const input = streams.stdin;
    const onData = (chunk: Buffer) => this.stdin?.write(chunk);
    const onEnd = () => {
      // Non-TTY with StdinOnce: the client's EOF is the process's EOF. With a TTY the terminal stays open.
      if (this.stdinOnce && !this.tty) this.stdin?.end();
    };
    if (input && this.stdin) {
      input.on('data', onData);
      input.once('end', onEnd);
    }
    const detach = () => {
      input?.off('data', onData);
      input?.off('end', onEnd);
      this.clients.delete(client);
      finished();
    };
    return { detach, done };
  }

  /** Wire a started process: its output to the log and the clients, the stdin buffer into it. */
  connect(proc: RuncProcess, log: JsonLogWriter): Promise<void> {
    if (this.stdin && proc.stdin) this.stdin.pipe(proc.stdin);
    const forward = (source: Readable, name: 'stdout' | 'stderr') => {
      source.on('data', (chunk: Buffer) => {
        log.write(name, chunk);
        for (const c of this.clients) (name === 'stdout' || this.tty ? c.streams.stdout : c.streams.stderr)?.write(chunk);
      });
      // finished() also settles for a stream that already ended (a silent process can be gone by now).
      return finished(source, { writable: false }).catch(() => undefined);
    };
    const ends = [forward(proc.stdout, 'stdout')];
    if (proc.stderr) ends.push(forward(proc.stderr, 'stderr'));
    return Promise.all(ends).then(async () => {
      await log.close();
      this.end();
    });
  }

  /** The run is over: every client is told, none can attach to it any more. */
  end(): void {
    this.ended = true;
    this.stdin?.end();
    for (const c of this.clients) c.finished();
    this.clients.clear();
  }
}
