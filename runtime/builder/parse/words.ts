/**
 * The classic builder's argument splitters (moby 20.10 parser/line_parsers.go and split_command.go), which
 * decide what each instruction's words are before any variable expansion. Quotes are kept here; expansion
 * removes them later.
 */

const SPACE = /[\t\n\v\f\r \u0085\u00a0]/;
const WHITESPACE_RUN = /[\t\v\f\r ]+/;

export function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}

/** Split off the command word and the leading `--flag` words. */
export function splitCommand(line: string): { cmd: string; flags: string[]; args: string } {
  const trimmed = line.trim();
  const m = WHITESPACE_RUN.exec(trimmed);
  if (!m) return { cmd: trimmed.toLowerCase(), flags: [], args: '' };
  const cmd = trimmed.slice(0, m.index).toLowerCase();
  const { rest, flags } = extractBuilderFlags(trimmed.slice(m.index + m[0].length));
  return { cmd, flags, args: rest.trim() };
}

/** Leading words that start with `--` (quotes and backslash escapes honoured inside them); `--` ends them. */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos]!)) pos++;
    if (pos >= line.length) return { rest: '', flags };
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    const { word, end, quoted } = readFlagWord(line, pos);
    pos = end;
    if (word === '--') return { rest: line.slice(pos), flags };
    if (quoted || word.length > 0) flags.push(word);
    if (pos >= line.length) return { rest: '', flags };
  }
}

function readFlagWord(line: string, start: number): { word: string; end: number; quoted: boolean } {
  let word = '';
  let quote = '';
  let quoted = false;
  let pos = start;
  for (; pos < line.length; pos++) {
    let ch = line[pos]!;
    if (!quote && isSpace(ch)) break;
    if (!quote && (ch === "'" || ch === '"')) {
      quote = ch;
      quoted = true;
      continue;
    }
    if (quote && ch === quote) {
      quote = '';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) continue;
      ch = line[++pos]!;
    }
    word += ch;
  }
  return { word, end: pos, quoted };
}

/** Words separated by blanks; quotes and escapes are kept verbatim (expansion strips them). */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = [...rest];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (!inWord && !quote) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      if (ch === escape && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i]!;
      }
      word += ch;
      continue;
    }
    if (isSpace(ch)) {
      if (blankOk || word.length > 0) words.push(word);
      word = '';
      blankOk = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOk = true;
    }
    if (ch === escape) {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i]!;
    }
    word += ch;
  }
  if ((inWord || quote) && (blankOk || word.length > 0)) words.push(word);
  return words;
}

/** `strings.Split` on runs of blanks, as Docker splits FROM, EXPOSE and list forms. */
export function splitWhitespace(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(WHITESPACE_RUN);
}

export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/**
 * Docker's "maybe JSON": a JSON array of strings is exec form; an array holding anything else is an error;
 * everything else (including single-quoted pseudo-JSON) is not JSON. Go's decoder reads one value and
 * ignores what follows it, which is mirrored here.
 */
export function parseJsonArray(rest: string): { ok: true; values: string[] } | { ok: false; error?: string } {
  const text = rest.replace(/^\s+/, '');
  if (!text.startsWith('[')) return { ok: false };
  const end = jsonArrayEnd(text);
  if (end < 0) return { ok: false };
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, end));
  } catch {
    return { ok: false };
  }
  if (!Array.isArray(value)) return { ok: false };
  if (!value.every((v) => typeof v === 'string')) return { ok: false, error: NOT_STRING_ARRAY };
  return { ok: true, values: value as string[] };
}

/** Index just past the top-level array that starts the text, or -1 if it never closes. */
function jsonArrayEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
