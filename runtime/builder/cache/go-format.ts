import type { HealthConfig } from '../../image/config.ts';

/** Go's strconv.Quote (the `%q` verb) for the strings Dockerfiles hold. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `%q` of a []string: `["a" "b"]`; nil and empty are `[]`. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

/** `%v` of a []string: `[a b]`. */
export function goList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).join(' ')}]`;
}

/** Go's time.Duration.String for whole nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, scale] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFraction(n / (scale as number))}${unit}`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFraction(n / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(x: number): string {
  return Number(x.toFixed(9)).toString();
}

/** Go's strconv.QuoteRune, which `%q` applies to the int Retries field. */
function goQuoteRune(n: number): string {
  if (n === 39) return "'\\''";
  if (n === 92) return "'\\\\'";
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
  if (named[n]) return `'${named[n]}'`;
  if (n < 0x80) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/** `%q` of a *HealthConfig: `&{["CMD-SHELL" "echo ok"] "5s" "2s" "0s" '\x00'}` (the legacy history text). */
export function goQuoteHealth(h: HealthConfig): string {
  const d = (v: number | undefined) => goQuote(goDuration(v ?? 0));
  return `&{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${goQuoteRune(h.Retries ?? 0)}}`;
}
