import { BuildError } from '../build-error.ts';

/** One instruction after Docker's line processing: continuations joined, comments dropped. */
export interface LogicalLine {
  text: string;
  /** 1-based physical lines the instruction spans. */
  startLine: number;
  endLine: number;
}

export interface ScannedDockerfile {
  lines: LogicalLine[];
  escape: '\\' | '`';
  /** Recognised parser directives, lower-cased keys (`escape`, `syntax`). */
  directives: Record<string, string>;
  /** Docker's parser warnings (empty continuation lines), printed before Step 1. */
  warnings: string[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax']);
const BOM = '\ufeff';

/**
 * Split a Dockerfile into logical lines exactly as the classic builder's parser does (moby 20.10): BOM stripped,
 * parser directives read only from the leading lines, comments dropped (also inside a continuation), the
 * escape character + trailing blanks joins the next line with no separator, blank continuation lines skipped
 * with a warning. dockerfile-ast joins lines differently (it treats an escaped escape at the end of a line as
 * a continuation and reads heredocs), so this layer owns line assembly and the parser sees one line at a time.
 */
export function scanLines(source: string, fileName = 'Dockerfile'): ScannedDockerfile {
  const physical = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  if (physical[0]?.startsWith(BOM)) physical[0] = physical[0].slice(1);
  const state = { escape: '\\' as '\\' | '`', directives: {} as Record<string, string>, scanning: true };
  let continuation = continuationRegex(state.escape);
  const lines: LogicalLine[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < physical.length) {
    const raw = trimLeft(physical[i]!);
    if (state.scanning) {
      readDirective(raw, state, i + 1, fileName);
      continuation = continuationRegex(state.escape);
    }
    i++;
    const startLine = i;
    let [line, ended] = trimContinuation(stripComment(raw), continuation);
    if (ended && line === '') continue;
    let emptyContinuation = false;
    while (!ended && i < physical.length) {
      const next = physical[i]!;
      i++;
      if (isComment(next)) continue;
      if (trimLeft(next) === '') {
        emptyContinuation = true;
        continue;
      }
      const [part, end] = trimContinuation(next, continuation);
      line += part;
      ended = end;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    lines.push({ text: line, startLine, endLine: i });
  }
  if (warnings.length > 0) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  if (lines.length === 0) throw new BuildError(`failed to parse ${fileName}: file with no instructions`, { range: { start: Math.max(i, 1), end: Math.max(i, 1) } });
  return { lines, escape: state.escape, directives: state.directives, warnings };
}

function readDirective(line: string, state: { escape: '\\' | '`'; directives: Record<string, string>; scanning: boolean }, lineNo: number, fileName: string): void {
  const match = DIRECTIVE.exec(line);
  const key = match?.[1]?.toLowerCase();
  if (!match || !key || !KNOWN_DIRECTIVES.has(key)) {
    state.scanning = false;
    return;
  }
  const fail = (message: string) => new BuildError(`failed to parse ${fileName}: ${message}`, { range: { start: lineNo, end: lineNo } });
  if (key in state.directives) throw fail(`only one ${key} parser directive can be used`);
  const value = match[2]!;
  if (key === 'escape') {
    if (value !== '`' && value !== '\\') throw fail(`invalid escape token '${value}' does not match \` or \\`);
    state.escape = value;
  }
  state.directives[key] = value;
}

function continuationRegex(escape: string): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function trimContinuation(line: string, re: RegExp): [string, boolean] {
  if (!re.test(line)) return [line, true];
  return [line.replace(re, '$1'), false];
}

/** Go's unicode.IsSpace set, which Docker trims with. */
function trimLeft(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, '');
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}

function stripComment(line: string): string {
  return line.startsWith('#') ? '' : line;
}
