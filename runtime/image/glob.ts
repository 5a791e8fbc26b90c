import { EngineError } from '../errors.ts';

type Token = { kind: 'any' } | { kind: 'char'; code: number } | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

/** A run of single-character tokens, preceded by a `*` or not. */
interface Segment {
  star: boolean;
  tokens: Token[];
}

/**
 * Go's path.Match semantics, which dockerd uses for `reference` filters: `*` is any run of non-`/`
 * characters, `?` one non-`/` character, `[...]` a class (`^` negates, `a-z` ranges, `\` escapes; a class
 * may match `/`), `\x` a literal. A malformed pattern is Go's ErrBadPattern, which dockerd returns as a 500.
 * Matching is Go's algorithm too (leftmost match of each fixed-width segment), linear in the pattern for
 * each start position: patterns come from learners, so no backtracking regex.
 */
export function compileGlob(pattern: string): (name: string) => boolean {
  const segments = parse([...pattern]);
  return (name) => matchSegments(segments, [...name].map((c) => c.codePointAt(0)!));
}

/** True when `name` matches the Go glob `pattern`. */
export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}

function parse(chars: string[]): Segment[] {
  const segments: Segment[] = [{ star: false, tokens: [] }];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const current = segments[segments.length - 1]!;
    if (c === '*') {
      if (current.tokens.length > 0 || !current.star) segments.push({ star: true, tokens: [] });
    } else if (c === '?') current.tokens.push({ kind: 'any' });
    else if (c === '[') i = parseClass(chars, i + 1, current.tokens);
    else if (c === '\\') {
      i++;
      if (i >= chars.length) throw badPattern();
      current.tokens.push({ kind: 'char', code: chars[i]!.codePointAt(0)! });
    } else current.tokens.push({ kind: 'char', code: c.codePointAt(0)! });
  }
  if (segments[0]!.tokens.length === 0 && segments.length > 1) segments.shift();
  return segments;
}

/** Parse `[...]` from just after the `[`; returns the index of the closing `]`. */
function parseClass(chars: string[], start: number, out: Token[]): number {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  const ranges: Array<[number, number]> = [];
  while (!(chars[i] === ']' && ranges.length > 0)) {
    const lo = classChar(chars, i);
    let hi = lo;
    if (chars[lo.next] === '-') hi = classChar(chars, lo.next + 1);
    ranges.push([lo.code, hi.code]);
    i = hi.next;
  }
  out.push({ kind: 'class', negated, ranges });
  return i;
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

const SLASH = 0x2f;

function matchSegments(segments: Segment[], name: number[]): boolean {
  let pos = 0;
  for (const [s, { star, tokens }] of segments.entries()) {
    const last = s === segments.length - 1;
    // A trailing `*` takes the rest of the name unless it holds a `/`.
    if (star && tokens.length === 0) return !name.slice(pos).includes(SLASH);
    const fits = (at: number) => matchAt(tokens, name, at) && (!last || at + tokens.length === name.length);
    let at = pos;
    if (!fits(at)) {
      if (!star) return false;
      at = -1;
      for (let skip = pos; skip < name.length && name[skip] !== SLASH; skip++) {
        if (fits(skip + 1)) {
          at = skip + 1;
          break;
        }
      }
      if (at === -1) return false;
    }
    pos = at + tokens.length;
  }
  return pos === name.length;
}

function matchAt(tokens: Token[], name: number[], at: number): boolean {
  if (at + tokens.length > name.length) return false;
  return tokens.every((t, k) => {
    const c = name[at + k]!;
    if (t.kind === 'any') return c !== SLASH;
    if (t.kind === 'char') return c === t.code;
    return t.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== t.negated;
  });
}

function badPattern(): EngineError {
  return new EngineError('INTERNAL', 'syntax error in pattern');
}
