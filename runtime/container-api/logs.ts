import { promises as fs } from 'node:fs';
import { invalid } from '../errors.ts';

/** One stored log line of the json-file driver. */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  log: string;
  /** As stored: Go's RFC3339Nano (trailing zeros dropped). */
  time: string;
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  /** Nanoseconds since the epoch (the CLI sends `<secs>.<nanos>`, which a double cannot hold exactly). */
  since?: bigint;
  until?: bigint;
  /** Lines from the end of the file (before the stream filter, as dockerd); undefined = all. */
  tail?: number;
}

/** `since`/`until` as the CLI sends them: `<secs>` or `<secs>.<nanos>`; empty means unset. */
export function parseLogTime(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) throw invalid(`invalid value for ${name}: ${JSON.stringify(value.slice(0, 50))}`);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** `tail`: `all` or a non-negative count; anything else means all, as dockerd treats it. */
export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === 'all' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** The fixed-width RFC 3339 time `docker logs -t` prints: always nine fraction digits. */
export function fixedTime(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : time;
}

function unixNanos(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(time);
  const secs = m ? Date.parse(`${m[1]}Z`) / 1000 : NaN;
  if (!m || !Number.isFinite(secs)) return 0n;
  return BigInt(secs) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function parseLine(line: string): LogEntry | undefined {
  try {
    const e = JSON.parse(line) as Partial<LogEntry>;
    if (typeof e.time !== 'string') return undefined;
    return { stream: e.stream === 'stderr' ? 'stderr' : 'stdout', log: typeof e.log === 'string' ? e.log : '', time: e.time };
  } catch {
    return undefined;
  }
}

/** Whether an entry passes the stream and time filters. */
export function wanted(e: LogEntry, opts: LogOptions): boolean {
  if (e.stream === 'stdout' ? !opts.stdout : !opts.stderr) return false;
  const t = unixNanos(e.time);
  if (opts.since !== undefined && t < opts.since) return false;
  if (opts.until !== undefined && t > opts.until) return false;
  return true;
}

/**
 * A reader of one json-file log from a byte offset: `read()` returns the complete lines written since the
 * last call (a line still being written is left for the next one), so `logs -f` can poll it.
 */
export class LogReader {
  private offset = 0;

  constructor(private readonly file: string) {}

  async read(): Promise<LogEntry[]> {
    const handle = await fs.open(this.file, 'r').catch(() => undefined);
    if (!handle) return [];
    try {
      const { size } = await handle.stat();
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      const end = buf.lastIndexOf(10, bytesRead - 1);
      if (end < 0) return [];
      this.offset += end + 1;
      return buf
        .subarray(0, end)
        .toString('utf8')
        .split('\n')
        .map(parseLine)
        .filter((e): e is LogEntry => e !== undefined);
    } finally {
      await handle.close();
    }
  }
}

/** What is stored now, with tail, stream and time filters applied. */
export function selectLogs(entries: LogEntry[], opts: LogOptions): LogEntry[] {
  const tailed = opts.tail === undefined ? entries : opts.tail === 0 ? [] : entries.slice(-opts.tail);
  return tailed.filter((e) => wanted(e, opts));
}
