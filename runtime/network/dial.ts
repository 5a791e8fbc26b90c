import { Duplex } from 'node:stream';
import { invalid } from '../errors.ts';
import { streamTool, type StreamedTool } from '../util/tool-runner.ts';
import { netnsPath } from './netns.ts';

/** Hostnames and IPv4 literals, or a bracketed IPv6 literal: nothing socat could read as an option (`,`, `:`). */
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])$/;

/** socat's errno texts → Node's error codes, so callers see what a net.Socket would have told them. */
const CODES: Array<[RegExp, string]> = [
  [/Connection refused/, 'ECONNREFUSED'],
  [/No route to host/, 'EHOSTUNREACH'],
  [/Network is unreachable/, 'ENETUNREACH'],
  [/timed out/, 'ETIMEDOUT'],
  [/Connection reset/, 'ECONNRESET'],
  [/Name or service not known|not known|Temporary failure in name resolution/, 'ENOTFOUND'],
];

/**
 * A TCP connection made from inside a named netns (a sandbox's host), as a Duplex that `http.request({
 * createConnection })` and a WebSocket upgrade can use like a socket. Node cannot setns, so the connection is
 * made by `nsenter --net=… -- socat - TCP:host:port` (argv, no shell, started by the tool runner: no fork of
 * the server per connection) and its stdio carries the bytes. socat's `-d -d` notices say when the connection
 * is up (`connect` is emitted then); a failed connection becomes an error with Node's code and wording
 * (`connect ECONNREFUSED 127.0.0.1:8080`). Destroying the stream kills socat. http.request passes its `timeout` option to createConnection, which must apply it itself:
 * `createConnection: (o) => dialInNetns(ns, port).setTimeout(o.timeout ?? 0)`.
 */
export function dialInNetns(netns: string, port: number, host = '127.0.0.1'): NetnsSocket {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`invalid port: ${port}`);
  if (!HOST_RE.test(host)) throw invalid(`invalid host: ${JSON.stringify(host)}`);
  // -t: after one direction ends, wait this long for the other (the default 0.5 s would cut half-closed HTTP);
  // shut-close: when the peer ends, close our stdout at once (socat keeps a stdio pipe open by default).
  const args = [`--net=${netnsPath(netns)}`, '--', 'socat', '-d', '-d', '-t', '3600', 'STDIO,shut-close', `TCP:${host}:${port}`];
  return new NetnsConnection(streamTool('nsenter', args, { stdin: true }), host, port);
}

/** What dialInNetns returns: a Duplex with the socket methods http and ws call. */
export type NetnsSocket = NetnsConnection;

class NetnsConnection extends Duplex {
  /** True once socat reported the data transfer loop: the TCP connection exists. */
  connecting = true;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private lastError = '';
  private outputEnded = false;
  private ended = false;
  private idleMs = 0;
  private idleTimer?: NodeJS.Timeout;
  /** socat, once the tool runner has started it (undefined if it could not be, or the stream was destroyed first). */
  private readonly socat: Promise<StreamedTool | undefined>;
  private tool?: StreamedTool;

  constructor(starting: Promise<StreamedTool>, host: string, port: number) {
    super({ allowHalfOpen: true });
    this.remoteAddress = host.replace(/^\[|\]$/g, '');
    this.remotePort = port;
    this.socat = starting.then(
      (tool) => {
        if (this.destroyed) {
          tool.kill();
          return undefined;
        }
        this.attach(tool);
        return tool;
      },
      (err: Error) => {
        this.destroy(err);
        return undefined;
      },
    );
  }

  private attach(tool: StreamedTool): void {
    this.tool = tool;
    tool.stdin?.on('error', () => undefined);
    let notices = '';
    tool.stderr.on('data', (d: Buffer) => {
      notices = this.readNotices(notices + d.toString());
    });
    tool.stdout.on('data', (chunk: Buffer) => {
      this.touch();
      if (!this.push(chunk)) tool.stdout.pause();
    });
    tool.stdout.on('end', () => {
      this.outputEnded = true;
      if (!this.connecting) this.push(null);
    });
    // socat has ended and its notices and output have all been read.
    void tool.closed.then((end) => {
      this.ended = true;
      this.onClose(end?.how === 'exited' ? end.code : null);
    });
  }

  /** Consume complete notice lines; returns the unfinished rest. */
  private readNotices(text: string): string {
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    for (const line of lines) {
      if (this.connecting && line.includes('starting data transfer loop')) {
        this.connecting = false;
        this.emit('connect');
        this.emit('ready');
        if (this.outputEnded) this.push(null);
      } else if (/ E /.test(line)) this.lastError = line.replace(/^.* E /, '');
    }
    return rest;
  }

  private onClose(code: number | null): void {
    if (this.destroyed) return;
    if (this.connecting) {
      const found = CODES.find(([re]) => re.test(this.lastError));
      const errCode = found?.[1] ?? 'ECONNREFUSED';
      const err = Object.assign(new Error(`connect ${errCode} ${this.remoteAddress}:${this.remotePort}${found ? '' : ` (${this.lastError || `socat exited with ${code}`})`}`), {
        code: errCode,
        syscall: 'connect',
        address: this.remoteAddress,
        port: this.remotePort,
      });
      this.destroy(err);
      return;
    }
    if (!this.outputEnded) this.push(null);
  }

  override _read(): void {
    this.tool?.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.touch();
    void this.socat.then((tool) => {
      const stdin = tool?.stdin;
      if (!stdin) return done(new Error(`connection to ${this.remoteAddress}:${this.remotePort} is gone`));
      if (stdin.write(chunk)) done();
      else stdin.once('drain', () => done());
    });
  }

  override _final(done: (err?: Error | null) => void): void {
    void this.socat.then((tool) => (tool?.stdin ? tool.stdin.end(done) : done()));
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    if (this.tool && !this.ended) this.tool.kill();
    done(err);
  }

  /** net.Socket's idle timeout: 'timeout' after `ms` without data either way (0 turns it off). */
  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) {
      if (ms > 0) this.once('timeout', cb);
      else this.removeListener('timeout', cb);
    }
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.idleMs > 0 && !this.destroyed) this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs).unref();
  }

  // What http's client and ws call on a socket; a pipe has no such options, so they are accepted as no-ops.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
