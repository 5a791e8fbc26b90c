import { untyped } from './filters.ts';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?)?(Z|[+-]\d\d:\d\d)?$/i;

/**
 * The `until` value of a prune filter as dockerd's GetTimestamp + ParseTimestamps read it: a Go duration
 * before `now` (`24h`, `1h30m`), an RFC 3339 date or date-time (local time without a zone), or Unix
 * seconds with an optional fraction. Returns milliseconds since the epoch.
 */
export function parseUntil(value: string, now = Date.now()): number {
  if (value !== '0' && DURATION.test(value)) return now - durationMs(value);
  const dated = DATE_TIME.exec(value);
  if (dated && inRange(dated)) return dateMs(dated);
  // Go's own parse error text (which names the layout it tried) is not reproduced.
  if (value.includes('-')) throw untyped(`parsing time ${JSON.stringify(value)}: cannot parse as a date or time`);
  const unix = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!unix) throw untyped(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return Number(unix[1]) * 1000 + Number(`0.${unix[2] ?? '0'}`) * 1000;
}

/** The single `until` filter value, or undefined; more than one is dockerd's 500. */
export function untilFromFilters(values: readonly string[] | undefined, now = Date.now()): number | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw untyped('more than one until filter specified');
  return parseUntil(values[0]!, now);
}

function durationMs(value: string): number {
  let ns = 0;
  for (const m of value.matchAll(DURATION_PART)) ns += Number(m[1]) * UNIT_NS[m[2]!]!;
  return (value.startsWith('-') ? -ns : ns) / 1e6;
}

function dateMs(m: RegExpExecArray): number {
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const ms = Number(`0.${frac}`) * 1000;
  if (!zone) return new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime();
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (/^z$/i.test(zone)) return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMin = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return utc - sign * offsetMin * 60_000;
}

function inRange(m: RegExpExecArray): boolean {
  const [mo, d, h, mi, s] = [2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= 31 && h! < 24 && mi! < 60 && s! < 60;
}
