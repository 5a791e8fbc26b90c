import { goClean } from './gomatch.ts';

/** A .dockerignore line after Docker's cleaning. */
export interface IgnorePattern {
  pattern: string;
  exclusion: boolean;
  regex: RegExp;
  dirs: number;
}

/**
 * Read a .dockerignore like the CLI and daemon do (buildkit dockerignore.ReadAll): BOM stripped, lines
 * starting with `#` skipped, blanks trimmed, `!` marks an exception, each pattern Go-Cleaned and a leading
 * `/` dropped (so `/foo`, `./foo` and `foo` are the same).
 */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  for (const rawLine of lines) {
    if (rawLine.startsWith('#')) continue;
    let pattern = rawLine.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

/**
 * Docker's PatternMatcher (moby 20.10 pkg/fileutils): Go filepath.Match syntax plus `**`; a pattern also
 * matches a path when it matches the path's leading directories; the last matching pattern wins.
 */
export class IgnoreMatcher {
  readonly patterns: IgnorePattern[];

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const line of lines) {
      let p = line.trim();
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      this.patterns.push({ pattern: p, exclusion, regex: compile(p), dirs: p.split('/').length });
    }
  }

  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Whether a context-relative path (slash-separated) is excluded. */
  matches(file: string): boolean {
    const clean = goClean(file);
    if (clean === '.') return false;
    const parent = clean.includes('/') ? clean.slice(0, clean.lastIndexOf('/')) : '.';
    const parentDirs = parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      let match = p.regex.test(clean);
      if (!match && parent !== '.' && p.dirs <= parentDirs.length) match = p.regex.test(parentDirs.slice(0, p.dirs).join('/'));
      if (match) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Whether the CLI's walk would descend into an excluded directory: only when some `!` pattern could
   * re-include something beneath it.
   */
  mayIncludeBelow(dir: string): boolean {
    const dirSlash = `${goClean(dir)}/`;
    return this.patterns.some((p) => p.exclusion && `${p.pattern}/`.startsWith(dirSlash));
  }

  /** Whether a path is left out of the context (itself excluded, or beneath a directory the walk skips). */
  excludes(file: string): boolean {
    if (this.matches(file)) return true;
    const parts = goClean(file).split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.matches(dir) && !this.mayIncludeBelow(dir)) return true;
    }
    return false;
  }
}

/** The regular expression Docker compiles a pattern to (`**` spans directories, `*` and `?` do not). */
function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '.' || ch === '$') re += `\\${ch}`;
    else if (ch === '\\') re += i + 1 < pattern.length ? `\\${pattern[++i]}` : '\\\\';
    else re += ch;
  }
  try {
    return new RegExp(`${re}$`);
  } catch {
    throw new Error('syntax error in pattern');
  }
}
