import { parseJsonArray, parseWords, splitWhitespace } from './words.ts';

/** What the classic parser's per-command line parser makes of the text after the flags. */
export interface LineArgs {
  args: string[];
  /** The arguments were a JSON array (exec form). */
  json: boolean;
}

/** A problem the line parser itself reports (Docker prefixes these with `failed to parse Dockerfile:`). */
export class LineParseError extends Error {}

type LineParser = (rest: string, escape: string) => LineArgs;

const plain = (args: string[]): LineArgs => ({ args, json: false });

function maybeJson(rest: string): LineArgs {
  if (rest === '') return plain([]);
  const parsed = parseJsonArray(rest);
  if (parsed.ok) return { args: parsed.values, json: true };
  if (parsed.error) throw new LineParseError(parsed.error);
  return plain([rest]);
}

function maybeJsonToList(rest: string): LineArgs {
  const parsed = parseJsonArray(rest);
  if (parsed.ok) return { args: parsed.values, json: true };
  if (parsed.error) throw new LineParseError(parsed.error);
  return plain(splitWhitespace(rest));
}

/** ENV/LABEL: `KEY rest of line` (legacy) or `k=v k2="v 2"`; returns [key, value, key, value, …]. */
function nameVal(key: string): LineParser {
  return (rest, escape) => {
    const words = parseWords(rest, escape);
    if (words.length === 0) return plain([]);
    if (!words[0]!.includes('=')) {
      const m = /[\t\v\f\r ]+/.exec(rest);
      if (!m) throw new LineParseError(`${key} must have two arguments`);
      return plain([rest.slice(0, m.index), rest.slice(m.index + m[0].length)]);
    }
    const out: string[] = [];
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq < 0) throw new LineParseError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      out.push(word.slice(0, eq), word.slice(eq + 1));
    }
    return plain(out);
  };
}

function healthConfig(rest: string): LineArgs {
  const m = /^(\S*)\s*/.exec(rest)!;
  if (m[1] === '') return plain([]);
  const cmd = maybeJson(rest.slice(m[0].length));
  return { args: [m[1]!, ...cmd.args], json: cmd.json };
}

const PARSERS: Record<string, LineParser> = {
  add: maybeJsonToList,
  arg: (rest, escape) => plain(parseWords(rest, escape)),
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: nameVal('ENV'),
  expose: (rest) => plain(splitWhitespace(rest)),
  from: (rest) => plain(splitWhitespace(rest)),
  healthcheck: healthConfig,
  label: nameVal('LABEL'),
  maintainer: (rest) => plain(rest === '' ? [] : [rest]),
  run: maybeJson,
  shell: maybeJson,
  stopsignal: (rest) => plain(rest === '' ? [] : [rest]),
  user: (rest) => plain(rest === '' ? [] : [rest]),
  volume: maybeJsonToList,
  workdir: (rest) => plain(rest === '' ? [] : [rest]),
};

/** True for the 18 instruction keywords the classic builder knows (lower case). */
export function isKnownCommand(cmd: string): boolean {
  return cmd === 'onbuild' || Object.hasOwn(PARSERS, cmd);
}

/** Run the command's line parser; unknown commands (and ONBUILD, handled by its caller) keep no arguments. */
export function lineArgs(cmd: string, rest: string, escape: string): LineArgs {
  const parser = Object.hasOwn(PARSERS, cmd) ? PARSERS[cmd] : undefined;
  return parser ? parser(rest, escape) : plain([]);
}
