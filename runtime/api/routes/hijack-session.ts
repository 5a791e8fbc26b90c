import { Writable, type Duplex } from 'node:stream';
import { invalid } from '../../errors.ts';
import { frame, StreamType } from '../hijack.ts';

/**
 * The server's side of a hijacked attach or exec stream. Output is written as stdcopy frames unless the
 * stream is a TTY. The client half-closes its write side as soon as its stdin is used up (at once when it
 * sends none): that FIN is not a disconnect, output goes on until `close()` (engine-api-facts §3.6). The
 * HTTP server's sockets allow half-open connections, so the socket's 'end' alone closes nothing.
 */
export class HijackSession {
  private closed = false;

  constructor(
    readonly socket: Duplex,
    private readonly tty: boolean,
  ) {
    socket.on('close', () => (this.closed = true));
  }

  /** A sink for one output stream of the container or exec. */
  output(type: StreamType.Stdout | StreamType.Stderr): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.send(this.tty ? chunk : frame(type, chunk));
        done();
      },
    });
  }

  send(data: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(data);
  }

  /** Write an error the way dockerd does after the upgrade: as stdout text (framed without a TTY). */
  sendError(message: string): void {
    const text = Buffer.from(`${message}\r\n`);
    this.send(this.tty ? text : frame(StreamType.Stdout, text));
  }

  /** Flush what was written and end the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.socket.writable) this.socket.end();
    else this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/**
 * The JSON body of a hijacked request: Node hands an upgrade request's body to us in `head` (maybe only part
 * of it); anything after Content-Length bytes is early stdin, pushed back onto the socket.
 */
export async function readUpgradeBody(socket: Duplex, head: Buffer, contentLength: number): Promise<unknown> {
  if (!Number.isInteger(contentLength) || contentLength < 0 || contentLength > 64 * 1024) throw invalid('invalid Content-Length for a hijacked request');
  let buf = head;
  while (buf.length < contentLength) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer) => done(d);
      const onEnd = () => done(null);
      const done = (d: Buffer | null) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.pause();
        resolve(d);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
    });
    if (!chunk) throw invalid('request body ended early');
    buf = Buffer.concat([buf, chunk]);
  }
  if (buf.length > contentLength) socket.unshift(buf.subarray(contentLength));
  const text = buf.subarray(0, contentLength).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(`invalid JSON in request body: ${(err as Error).message}`, err);
  }
}
