/** The builder's `--flag=value` options on one instruction, checked with Docker's error texts. */
export type FlagType = 'string' | 'strings' | 'bool';

export interface ParsedFlags {
  values: Map<string, string[]>;
  /** Flag names in the order they were used. */
  used: string[];
}

/** Parse flag words against the flags an instruction defines; throws Docker's message on misuse. */
export function parseFlags(words: string[], defined: Record<string, FlagType>): ParsedFlags {
  const values = new Map<string, string[]>();
  const used: string[] = [];
  for (const word of words) {
    if (!word.startsWith('--')) throw new Error(`Arg should start with -- : ${word}`);
    if (word === '--') break;
    let name = word.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const type = Object.hasOwn(defined, name) ? defined[name] : undefined;
    if (!type) throw new Error(`Unknown flag: ${name}`);
    if (values.has(name) && type !== 'strings') throw new Error(`Duplicate flag specified: ${name}`);
    if (type === 'bool') {
      if (value === '') throw new Error(`Missing a value on flag: ${name}`);
      const lower = (value ?? 'true').toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw new Error(`Expecting boolean value for flag ${name}, not: ${value}`);
      value = lower;
    } else if (value === undefined) {
      throw new Error(`Missing a value on flag: ${name}`);
    }
    if (!values.has(name)) used.push(name);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { values, used };
}

export function flagValue(flags: ParsedFlags, name: string): string {
  return flags.values.get(name)?.[0] ?? '';
}
