import path from 'node:path';

/** Go's filepath.Clean for slash paths: `''` → `.`, no trailing slash, `.`/`..` resolved lexically. */
export function goClean(p: string): string {
  let n = path.posix.normalize(p);
  if (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

/**
 * Go's filepath.Match as a regular expression: `*` and `?` never cross `/`, `[...]` classes with `^`
 * negation and ranges, backslash escapes the next character. Throws `syntax error in pattern` like Go.
 */
export function goMatchRegex(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) throw new Error('syntax error in pattern');
      re += escapeRe(pattern[++i]!);
    } else if (ch === '[') {
      const end = classEnd(pattern, i);
      re += classRegex(pattern.slice(i + 1, end));
      i = end;
    } else re += escapeRe(ch);
  }
  return new RegExp(`${re}$`, 's');
}

export function goMatch(pattern: string, name: string): boolean {
  return goMatchRegex(pattern).test(name);
}

function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  for (let first = true; i < pattern.length; i++, first = false) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && !first) return i;
  }
  throw new Error('syntax error in pattern');
}

function classRegex(body: string): string {
  let out = '[';
  let i = 0;
  if (body.startsWith('^')) {
    out += '^';
    i = 1;
  }
  if (i >= body.length) throw new Error('syntax error in pattern');
  for (; i < body.length; i++) {
    let ch = body[i]!;
    if (ch === '\\') ch = body[++i] ?? '';
    out += ch === '-' && i > 0 && i < body.length - 1 ? '-' : escapeClassChar(ch);
  }
  return `${out}]`.replace(/^\[\^?\]$/, () => {
    throw new Error('syntax error in pattern');
  });
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeClassChar(ch: string): string {
  return /[\]\\^-]/.test(ch) ? `\\${ch}` : ch;
}

/** True when a COPY/ADD source holds an unescaped wildcard (`*`, `?`, `[`). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}
