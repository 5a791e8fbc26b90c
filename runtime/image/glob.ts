import { EngineError } from '../errors.ts';

/**
 * Go's path.Match semantics, which dockerd uses for `reference` filters: `*` is any run of non-`/`
 * characters, `?` one non-`/` character, `[...]` a class (`^` negates, `a-z` ranges, `\` escapes), `\x` a
 * literal. A malformed pattern is Go's ErrBadPattern, which the daemon returns as a 500.
 */
export function compileGlob(pattern: string): RegExp {
  let source = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const cls = parseClass(chars, i + 1);
      source += cls.source;
      i = cls.end;
    } else if (c === '\\') {
      i++;
      if (i >= chars.length) throw badPattern();
      source += literal(chars[i]!);
    } else source += literal(c);
  }
  return new RegExp(`^${source}$`, 'su');
}

/** True when `name` matches the Go glob `pattern`. */
export function globMatch(pattern: string | RegExp, name: string): boolean {
  return (typeof pattern === 'string' ? compileGlob(pattern) : pattern).test(name);
}

function parseClass(chars: string[], start: number): { source: string; end: number } {
  let i = start;
  let negated = false;
  if (chars[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: string[] = [];
  let count = 0;
  for (;;) {
    if (chars[i] === ']' && count > 0) break;
    const lo = classChar(chars, i);
    let hi = lo;
    i = lo.next;
    if (chars[i] === '-') {
      hi = classChar(chars, i + 1);
      i = hi.next;
    }
    if (lo.code <= hi.code) ranges.push(`\\u{${lo.code.toString(16)}}-\\u{${hi.code.toString(16)}}`);
    count++;
  }
  // Classes may match '/', unlike `*` and `?` (Go reads any rune there).
  const set = ranges.join('');
  const source = negated ? (set ? `[^${set}]` : '[\\s\\S]') : set ? `[${set}]` : '(?!)';
  return { source, end: i };
}

/** One character of a class (Go's getEsc): `-` or `]` here, or running off the end, is a bad pattern. */
function classChar(chars: string[], i: number): { code: number; next: number } {
  let c = chars[i];
  if (c === undefined || c === '-' || c === ']') throw badPattern();
  if (c === '\\') {
    i++;
    c = chars[i];
    if (c === undefined) throw badPattern();
  }
  if (i + 1 >= chars.length) throw badPattern();
  return { code: c.codePointAt(0)!, next: i + 1 };
}

function literal(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function badPattern(): EngineError {
  return new EngineError('INTERNAL', 'syntax error in pattern');
}
