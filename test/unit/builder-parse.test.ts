import { describe, expect, it } from 'vitest';
import { BuildError } from '../../runtime/builder/build-error.ts';
import { parseDockerfile } from '../../runtime/builder/parse/dockerfile.ts';
import { scanLines } from '../../runtime/builder/parse/lines.ts';
import { INSTRUCTION_CASES, NEGATIVE_CASES } from '../fixtures/builder/parse-cases.ts';

describe('builder line scanner (Docker 20.10 rules)', () => {
  it('joins continuations with no separator and keeps leading blanks of continuation lines', () => {
    const { lines } = scanLines('FROM a\nENV FOO=bar \\\n    BAZ="qux quux"\n');
    expect(lines[1]).toEqual({ text: 'ENV FOO=bar     BAZ="qux quux"', startLine: 2, endLine: 3 });
  });

  it('drops comments inside a continuation and warns about empty continuation lines', () => {
    const s = scanLines('FROM a\nRUN echo hello \\\n# comment\n    world\nRUN echo a \\\n\n  b\n');
    expect(s.lines.map((l) => l.text)).toEqual(['FROM a', 'RUN echo hello     world', 'RUN echo a   b']);
    expect(s.warnings).toEqual(['[WARNING]: Empty continuation line found in:\n    RUN echo a   b', '[WARNING]: Empty continuation lines will become errors in a future release.']);
  });

  it('does not continue a line ending in an escaped escape character', () => {
    expect(scanLines('FROM a\nRUN echo a\\\\\nRUN b\n').lines).toHaveLength(3);
  });

  it('honours the escape directive only at the top', () => {
    expect(scanLines('# escape=`\nFROM a\nRUN echo a `\n  b\nRUN dir c:\\\n').lines.map((l) => l.text)).toEqual(['FROM a', 'RUN echo a   b', 'RUN dir c:\\']);
    expect(scanLines('# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n').escape).toBe('`');
    expect(scanLines('# hello\n# escape=`\nFROM a\n').escape).toBe('\\');
    expect(scanLines('\ufeff# escape=`\nFROM a\n').escape).toBe('`');
  });
});

describe('builder instruction parser', () => {
  for (const c of INSTRUCTION_CASES) {
    it(`parses ${c.name}`, () => {
      const parsed = parseDockerfile(c.dockerfile);
      const commands = parsed.stages.flatMap((s) => s.commands).map(({ range: _r, ...rest }) => rest);
      expect(commands).toEqual(c.expect);
    });
  }

  it('groups global ARGs, stages and AS names', () => {
    const p = parseDockerfile('ARG BASE=busybox\nFROM $BASE AS Build\nRUN x\nfrom scratch\nCOPY --from=build /a /a\n');
    expect(p.metaArgs.map((a) => a.args)).toEqual([[{ key: 'BASE', value: 'busybox' }]]);
    expect(p.stages.map((s) => [s.base, s.name, s.original, s.commands.length])).toEqual([
      ['$BASE', 'build', 'FROM $BASE AS Build', 1],
      ['scratch', '', 'from scratch', 1],
    ]);
  });
});

describe('builder negative fixtures: located errors with Docker texts', () => {
  for (const c of NEGATIVE_CASES) {
    it(c.name, () => {
      let error: unknown;
      try {
        parseDockerfile(c.dockerfile);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BuildError);
      expect((error as BuildError).message).toBe(c.message);
      expect((error as BuildError).range).toEqual(c.range);
      if (c.hint) expect((error as BuildError).hint).toMatch(c.hint);
    });
  }
});
