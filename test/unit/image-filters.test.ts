import { describe, expect, it } from 'vitest';
import { danglingFilter, matchKVList, matchPruneLabels, validateFilters } from '../../runtime/image/filters.ts';
import { compileGlob, globMatch } from '../../runtime/image/glob.ts';
import { parseUntil, untilFromFilters } from '../../runtime/image/timestamp.ts';

const f = (o: Record<string, string[]>) => new Map(Object.entries(o));

describe('reference patterns (Go path.Match)', () => {
  it.each([
    ['busybox', 'busybox', true],
    ['busybox', 'busybox:latest', false],
    ['hf*', 'hfbox:1', true],
    ['*', 'learner/app', false],
    ['*/*', 'learner/app', true],
    ['*:1', 'hfbox:1', true],
    ['?b', 'ab', true],
    ['?b', '/b', false],
    ['[a-c]x', 'bx', true],
    ['[^a-c]x', 'bx', false],
    ['[^a-c]x', 'dx', true],
    ['[/]', '/', true],
    ['[z-a]', 'm', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a.b', 'axb', false],
    ['', '', true],
    ['a*b*c', 'aXbYc', true],
    ['*a', 'ba', true],
    ['a*', 'a/b', false],
    ['*x*', 'abxcd', true],
    ['*/*', 'a/b/c', false],
    ['**b', 'aab', true],
    ['a*c', 'abcbc', true],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(globMatch(pattern, name)).toBe(expected);
  });

  it('matches hostile patterns in linear time', () => {
    const started = Date.now();
    expect(globMatch(`${'a*'.repeat(60)}b`, 'a'.repeat(255))).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it.each(['[', 'a[', '[]a]', '[a-]', '[-a]', 'x\\', '[^]'])('rejects %s as the daemon does', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow('syntax error in pattern');
  });
});

describe('filters', () => {
  it('names unknown filters with the daemon text', () => {
    expect(() => validateFilters(f({ nope: ['1'] }), ['dangling'])).toThrow("Invalid filter 'nope'");
    expect(() => validateFilters(f({ dangling: ['true'] }), ['dangling'])).not.toThrow();
  });

  it('reads dangling like the image list (true/false only) and prune (also 1/0)', () => {
    expect(danglingFilter(f({}), false)).toBeUndefined();
    expect(danglingFilter(f({ dangling: ['true'] }), false)).toBe(true);
    expect(danglingFilter(f({ dangling: ['false'] }), false)).toBe(false);
    expect(() => danglingFilter(f({ dangling: ['1'] }), false)).toThrow("Invalid filter 'dangling=[1]'");
    expect(danglingFilter(f({ dangling: ['1'] }), true)).toBe(true);
    expect(danglingFilter(f({ dangling: ['0'] }), true)).toBe(false);
    expect(() => danglingFilter(f({ dangling: ['maybe'] }), true)).toThrow("Invalid filter 'dangling=[maybe]'");
    // Both values: the list checks "true" first, prune checks "false" first.
    expect(danglingFilter(f({ dangling: ['true', 'false'] }), false)).toBe(true);
    expect(danglingFilter(f({ dangling: ['true', 'false'] }), true)).toBe(false);
  });

  it('matches label filters as key or key=value, all of them', () => {
    const labels = { a: 'b', c: '' };
    expect(matchKVList(undefined, null)).toBe(true);
    expect(matchKVList(['a'], labels)).toBe(true);
    expect(matchKVList(['a=b', 'c'], labels)).toBe(true);
    expect(matchKVList(['a=c'], labels)).toBe(false);
    expect(matchKVList(['c='], labels)).toBe(true);
    expect(matchKVList(['a'], null)).toBe(false);
    expect(matchPruneLabels(f({ 'label!': ['a'] }), labels)).toBe(false);
    expect(matchPruneLabels(f({ 'label!': ['a=x'] }), labels)).toBe(true);
    expect(matchPruneLabels(f({ label: ['a'], 'label!': ['zz'] }), labels)).toBe(true);
  });
});

describe('until timestamps', () => {
  const now = Date.UTC(2026, 0, 10, 12, 0, 0);

  it('reads Go durations relative to now', () => {
    expect(parseUntil('1h', now)).toBe(now - 3_600_000);
    expect(parseUntil('1h30m', now)).toBe(now - 5_400_000);
    expect(parseUntil('1.5s', now)).toBe(now - 1500);
    expect(parseUntil('-10m', now)).toBe(now + 600_000);
  });

  it('reads Unix seconds and RFC 3339 times', () => {
    expect(parseUntil('0', now)).toBe(0);
    expect(parseUntil('1600000000', now)).toBe(1_600_000_000_000);
    expect(parseUntil('1600000000.5', now)).toBe(1_600_000_000_500);
    expect(parseUntil('2024-01-03T10:00:00Z', now)).toBe(Date.UTC(2024, 0, 3, 10));
    expect(parseUntil('2024-01-03T10:00:00.25+02:00', now)).toBe(Date.UTC(2024, 0, 3, 8, 0, 0, 250));
    expect(parseUntil('2024-01-03', now)).toBe(new Date(2024, 0, 3).getTime());
    expect(parseUntil('2024-01-03T10', now)).toBe(new Date(2024, 0, 3, 10).getTime());
  });

  it('refuses what dockerd refuses', () => {
    expect(() => parseUntil('garbage', now)).toThrow('failed to parse value as time or duration: "garbage"');
    expect(() => parseUntil('2024-13-45', now)).toThrow(/parsing time "2024-13-45"/);
    expect(() => untilFromFilters(['1h', '2h'], now)).toThrow('more than one until filter specified');
    expect(untilFromFilters(undefined, now)).toBeUndefined();
  });
});
