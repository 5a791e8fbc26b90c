import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { goJson } from '../image/config.ts';

/** Docker's copier buffer: a line longer than this is stored in pieces. */
const MAX_PIECE = 16 * 1024;

/** RFC 3339 with nanoseconds, trailing zeros dropped, UTC (Go's RFC3339Nano); microsecond precision. */
export function rfc3339Nano(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = String(Math.floor(epochMicros % 1_000_000) * 1000).padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The json-file log driver: one `{"log","stream","time"}` object per line (Docker's key order and escaping),
 * lines split at `\n`, a piece without newline stored when 16 KiB accumulate or the stream ends. Writes are
 * appended in order; once `maxBytes` is reached, one notice is stored and further output is dropped from the
 * file (the attached clients still get it), so a chatty container cannot fill the disk.
 */
export class JsonLogWriter {
  private readonly pending = new Map<string, { data: Buffer; time: number }>();
  private full = false;

  private constructor(
    private readonly out: WriteStream,
    private size: number,
    private readonly maxBytes: number,
  ) {}

  /** Append to `file` (a restarted container keeps its earlier log, as in Docker). */
  static async open(file: string, maxBytes: number): Promise<JsonLogWriter> {
    const stat = await fs.stat(file).catch(() => undefined);
    const out = createWriteStream(file, { flags: 'a', mode: 0o640 });
    out.on('error', () => undefined);
    return new JsonLogWriter(out, stat?.size ?? 0, maxBytes);
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const prev = this.pending.get(stream);
    let data = prev ? Buffer.concat([prev.data, chunk]) : chunk;
    const time = prev?.time ?? nowMicros();
    const lines: Array<{ data: Buffer; time: number }> = [];
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      lines.push({ data: data.subarray(0, nl + 1), time: lines.length === 0 ? time : nowMicros() });
      data = data.subarray(nl + 1);
    }
    while (data.length >= MAX_PIECE) {
      lines.push({ data: data.subarray(0, MAX_PIECE), time: lines.length === 0 ? time : nowMicros() });
      data = data.subarray(MAX_PIECE);
    }
    if (data.length > 0) this.pending.set(stream, { data: Buffer.from(data), time: lines.length === 0 ? time : nowMicros() });
    else this.pending.delete(stream);
    for (const line of lines) this.append(stream, line.data, line.time);
  }

  /** Store what is left of unterminated lines (the streams ended) and close the file once all is written. */
  async close(): Promise<void> {
    for (const [stream, piece] of this.pending) this.append(stream as 'stdout' | 'stderr', piece.data, piece.time);
    this.pending.clear();
    await new Promise<void>((resolve) => this.out.end(resolve));
  }

  private append(stream: 'stdout' | 'stderr', data: Buffer, time: number): void {
    if (this.full) return;
    let line = `${goJson({ log: data.toString('utf8'), stream, time: rfc3339Nano(time) })}\n`;
    if (this.size + line.length > this.maxBytes) {
      this.full = true;
      const notice = `[layerlab: this container's log reached ${this.maxBytes} bytes; later output is not stored]\n`;
      line = `${goJson({ log: notice, stream: 'stderr', time: rfc3339Nano(nowMicros()) })}\n`;
    }
    this.size += Buffer.byteLength(line);
    this.out.write(line);
  }
}
