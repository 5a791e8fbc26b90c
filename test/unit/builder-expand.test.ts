import { describe, expect, it } from 'vitest';
import { BuildArgs } from '../../runtime/builder/expand/build-args.ts';
import { envMap, Lexer } from '../../runtime/builder/expand/lex.ts';

const lex = new Lexer('\\');
const env = envMap(['abc=hello', 'DIRPATH=/path', 'PORTS=80 443', 'empty=']);

describe('builder variable expansion (shell/lex.go rules)', () => {
  const cases: Array<[string, string]> = [
    ['$abc', 'hello'],
    ['${abc}', 'hello'],
    ['$DIRPATH/$DIRNAME', '/path/'],
    ['${unset:-dflt}', 'dflt'],
    ['${empty:-dflt}', 'dflt'],
    ['${abc:-dflt}', 'hello'],
    ['${abc:+set}', 'set'],
    ['${unset:+set}', ''],
    ['\\$abc', '$abc'],
    ['"qux quux"', 'qux quux'],
    ["'$abc'", '$abc'],
    ['"$abc world"', 'hello world'],
    ['a\\ b', 'a b'],
    ['$', '$'],
    ['${abc}x${abc}', 'helloxhello'],
  ];
  for (const [word, expected] of cases) {
    it(`${word} → ${JSON.stringify(expected)}`, () => expect(lex.processWord(word, env)).toBe(expected));
  }

  it('splits words only for EXPOSE-style processing', () => {
    expect(lex.processWords('$PORTS', env)).toEqual(['80', '443']);
    expect(lex.processWords('"$PORTS"', env)).toEqual(['80 443']);
  });

  it('reports Docker errors', () => {
    expect(() => lex.processWord('${', env)).toThrow("failed to process \"${\": syntax error: missing '}'");
    expect(() => lex.processWord('${abc', env)).toThrow("missing ':' in substitution");
    expect(() => lex.processWord('${:}', env)).toThrow('bad substitution');
    expect(() => lex.processWord('${unset?is required}', env)).toThrow('unset: is required');
    expect(() => lex.processWord('"open', env)).toThrow('unexpected end of statement while looking for matching double-quote');
  });

  it('uses backtick as escape when the directive says so', () => {
    expect(new Lexer('`').processWord('`$abc C:\\dir', env)).toBe('$abc C:\\dir');
  });
});

describe('builder build-arg scoping (buildargs.go)', () => {
  it('global ARG is empty inside a stage until re-declared', () => {
    const global = new BuildArgs({});
    global.addArg('GLOBAL', 'g1');
    global.addMetaArg('GLOBAL', 'g1');
    const stage = global.forStage();
    expect(stage.filterAllowed([])).toEqual([]);
    stage.addArg('GLOBAL', undefined);
    expect(stage.filterAllowed([])).toEqual(['GLOBAL=g1']);
  });

  it('--build-arg overrides a default; ENV shadows; unset ARG is absent', () => {
    const args = new BuildArgs({ A: '2' });
    args.addArg('A', '1');
    args.addArg('B', undefined);
    expect(args.filterAllowed([])).toEqual(['A=2']);
    expect(args.filterAllowed(['A=env'])).toEqual([]);
  });

  it('proxy args work without ARG, count for cache only when declared, and are never "unused"', () => {
    const args = new BuildArgs({ HTTP_PROXY: 'http://p', NOPE: 'x' });
    expect(args.filterAllowed([])).toEqual(['HTTP_PROXY=http://p']);
    expect(args.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(false);
    args.addArg('HTTP_PROXY', undefined);
    expect(args.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(true);
    expect(args.unused()).toEqual(['NOPE']);
  });
});
