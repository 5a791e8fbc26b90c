import { isSpace } from '../parse/words.ts';

/**
 * Docker's Dockerfile variable expansion (moby 20.10 buildkit shell/lex.go): `$v`, `${v}`, `${v:-word}`,
 * `${v:+word}`, `${v?msg}`/`${v:?msg}`; quotes are removed, the escape character makes the next character
 * literal, single quotes are literal, unset variables expand to ''. Throws Docker's message on bad syntax.
 */
export class Lexer {
  constructor(private readonly escape: string) {}

  get escapeChar(): string {
    return this.escape;
  }

  /** Expand one word to one string. */
  processWord(word: string, env: ReadonlyMap<string, string>): string {
    return this.run(word, env).word;
  }

  /** Expand one word that may split into several on unquoted blanks (only EXPOSE uses this). */
  processWords(word: string, env: ReadonlyMap<string, string>): string[] {
    return this.run(word, env).words;
  }

  private run(source: string, env: ReadonlyMap<string, string>): { word: string; words: string[] } {
    const scan = new WordScanner([...source], env, this.escape);
    try {
      return scan.processStopOn(undefined);
    } catch (err) {
      throw new Error(`failed to process ${JSON.stringify(source)}: ${(err as Error).message}`);
    }
  }
}

/** Build the lookup map from `K=V` strings; later entries win, as in Docker's BuildEnvs. */
export function envMap(list: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) map.set(entry, '');
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return map;
}

class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRaw(ch);
    }
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = '';
    return this.words;
  }
}

class WordScanner {
  private pos = 0;

  constructor(
    private readonly chars: string[],
    private readonly env: ReadonlyMap<string, string>,
    private readonly escape: string,
  ) {}

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  processStopOn(stop: string | undefined): { word: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (stop !== undefined && ch === stop) {
        this.next();
        return { word: result, words: words.finish() };
      }
      if (ch === "'" || ch === '"' || ch === '$') {
        const value = ch === "'" ? this.singleQuote() : ch === '"' ? this.doubleQuote() : this.dollar();
        result += value;
        if (ch === '$') for (const c of value) words.addChar(c);
        else words.addRaw(value);
        continue;
      }
      let c = this.next()!;
      if (c === this.escape) {
        const escaped = this.next();
        if (escaped === undefined) break;
        c = escaped;
        words.addRaw(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stop !== undefined) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
    return { word: result, words: words.finish() };
  }

  private singleQuote(): string {
    this.next();
    let result = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return result;
      result += ch;
    }
  }

  private doubleQuote(): string {
    this.next();
    let result = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return result;
      }
      if (ch === '$') {
        result += this.dollar();
        continue;
      }
      let c = this.next()!;
      if (c === this.escape) {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) c = this.next()!;
      }
      result += c;
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.env.get(name) ?? '');
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.name();
    const ch = this.next();
    if (ch === '}') return this.env.get(name) ?? '';
    if (ch === '?') return this.required(name, this.modifierWord(), false);
    if (ch === ':') {
      const modifier = this.next();
      const word = this.modifierWord();
      const value = this.env.get(name) ?? '';
      if (modifier === '+') return value !== '' ? word : value;
      if (modifier === '-') return value === '' ? word : value;
      if (modifier === '?') return this.required(name, word, true);
      throw new Error(`unsupported modifier (${modifier ?? ''}) in substitution`);
    }
    throw new Error("missing ':' in substitution");
  }

  private modifierWord(): string {
    try {
      return this.processStopOn('}').word;
    } catch (err) {
      if (this.peek() === undefined) throw new Error("syntax error: missing '}'");
      throw err;
    }
  }

  private required(name: string, word: string, nonEmpty: boolean): string {
    const value = this.env.get(name);
    if (value === undefined) throw new Error(`${name}: ${word || 'is not allowed to be unset'}`);
    if (nonEmpty && value === '') throw new Error(`${name}: ${word || 'is not allowed to be empty'}`);
    return value;
  }

  private name(): string {
    let name = '';
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (name === '' && /\d/.test(ch)) {
        while (this.peek() !== undefined && /\d/.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next()!;
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}
