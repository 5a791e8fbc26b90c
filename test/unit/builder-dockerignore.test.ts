import { describe, expect, it } from 'vitest';
import { IgnoreMatcher, parseDockerignore } from '../../runtime/builder/context/dockerignore.ts';

describe('builder .dockerignore (patternmatcher semantics)', () => {
  it('parses like dockerignore.ReadAll: comments, trimming, leading / and ./ cleaned, exceptions', () => {
    expect(parseDockerignore('\ufeff# c\n  *.md  \n\n!README.md\n/drop.txt\n./a/../b/\n ! keep \n')).toEqual(['*.md', '!README.md', 'drop.txt', 'b', '!keep']);
  });

  it('reproduces EXP-7: *.md, !README.md, **/*.log, /drop.txt', () => {
    const m = new IgnoreMatcher(parseDockerignore('*.md\n!README.md\n**/*.log\n/drop.txt\nDockerfile\n.dockerignore\n'));
    const files = ['README.md', 'CHANGES.md', 'keep.txt', 'drop.txt', 'logs/a.log', 'sub/t.txt', 'sub/deep/x.log', 'a.log', 'Dockerfile', '.dockerignore', 'sub/x.md'];
    expect(files.filter((f) => !m.excludes(f))).toEqual(['README.md', 'keep.txt', 'sub/t.txt', 'sub/x.md']);
  });

  it('excluding a directory excludes its contents; an exception can re-include below it', () => {
    const m = new IgnoreMatcher(['node_modules', '!node_modules/keep']);
    expect(m.excludes('node_modules/x/y.js')).toBe(true);
    expect(m.excludes('node_modules/keep')).toBe(false);
    expect(m.excludes('node_modules/keep/inner.js')).toBe(false);
    const plain = new IgnoreMatcher(['build']);
    expect(plain.excludes('build/out.bin')).toBe(true);
    expect(plain.excludes('builder.ts')).toBe(false);
  });

  it('** spans zero or more directories; * and ? stay inside one', () => {
    const m = new IgnoreMatcher(['**/secret', 'a/*/c', 'f?.txt']);
    expect(['secret', 'x/secret', 'x/y/secret', 'a/b/c', 'a/b/d/c', 'f1.txt', 'f12.txt', 'd/f1.txt'].map((f) => m.matches(f))).toEqual([true, true, true, true, false, true, false, false]);
  });

  it('the last matching pattern wins', () => {
    const m = new IgnoreMatcher(['!a.txt', '*.txt']);
    expect(m.matches('a.txt')).toBe(true);
    expect(new IgnoreMatcher(['*.txt', '!a.txt']).matches('a.txt')).toBe(false);
  });

  it('rejects a bare "!"', () => {
    expect(() => new IgnoreMatcher(['!'])).toThrow('illegal exclusion pattern: "!"');
  });
});
