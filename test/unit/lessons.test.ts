import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadLessons } from '../../server/lessons/index.ts';
import { parseFrontmatter } from '../../server/lessons/frontmatter.ts';

const base = '/tmp/lessons-test';
const repoLessons = path.resolve(import.meta.dirname, '../../lessons');

function lesson(folder: string, frontmatter: string, body = '# Body\n', files: Record<string, string> = {}): void {
  const dir = path.join(base, folder);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'lesson.md'), `---\n${frontmatter}\n---\n\n${body}`);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'files', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'files', name), content);
  }
}

describe('loadLessons', () => {
  beforeEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(path.join(base, 'README.md'), 'not a lesson');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('orders lessons by number, takes slugs from folder names, and reads starter files', async () => {
    lesson('10-later', 'title: Later\nsummary: "Quoted: with \\"escapes\\""');
    lesson('02-first-steps', 'title: First steps\nsummary: Plain summary', '# One\n', { Dockerfile: 'FROM busybox\n', 'src/run.sh': '#!/bin/sh\n' });
    fs.chmodSync(path.join(base, '02-first-steps/files/src/run.sh'), 0o755);
    const catalog = await loadLessons(base);
    expect(catalog.list()).toEqual([
      { slug: 'first-steps', title: 'First steps', summary: 'Plain summary' },
      { slug: 'later', title: 'Later', summary: 'Quoted: with "escapes"' },
    ]);
    expect(catalog.get('first-steps')).toMatchObject({ markdown: '# One\n', files: ['Dockerfile', 'src/run.sh'] });
    expect(catalog.starterFiles('first-steps').map((f) => [f.path, f.content.toString(), f.mode])).toEqual([
      ['Dockerfile', 'FROM busybox\n', 0o644],
      ['src/run.sh', '#!/bin/sh\n', 0o755],
    ]);
    expect(catalog.get('nope')).toBeUndefined();
    expect(catalog.starterFiles('nope')).toEqual([]);
  });

  const invalid: Array<[string, () => void, RegExp]> = [
    ['a missing title', () => lesson('01-a', 'summary: s'), /01-a\/lesson\.md: invalid frontmatter: title/],
    ['an unknown key', () => lesson('01-a', 'title: t\nsummary: s\ntitel: typo'), /01-a\/lesson\.md: invalid frontmatter/],
    ['a line that is not key: value', () => lesson('01-a', 'title: t\n- item'), /01-a\/lesson\.md:3: expected "key: value"/],
    ['a key set twice', () => lesson('01-a', 'title: t\ntitle: u\nsummary: s'), /"title" is set twice/],
    ['a bad folder name', () => lesson('1-a', 'title: t\nsummary: s'), /1-a: a lesson folder is named NN-slug/],
    ['a duplicate number', () => (lesson('01-a', 'title: t\nsummary: s'), lesson('01-b', 'title: t\nsummary: s')), /01-b: number 01 is also used by 01-a/],
    ['a missing lesson.md', () => fs.mkdirSync(path.join(base, '03-empty')), /03-empty\/lesson\.md: missing/],
    ['a file block with ..', () => lesson('01-a', 'title: t\nsummary: s', '```dockerfile file=../Dockerfile\nFROM x\n```\n'), /01-a\/lesson\.md: file block/],
    ['a symlink in files/', () => (lesson('01-a', 'title: t\nsummary: s', '', { ok: 'x' }), fs.symlinkSync('/etc/passwd', path.join(base, '01-a/files/passwd'))), /01-a\/files\/passwd: starter files must be regular files/],
    ['a starter file over 256 KiB', () => lesson('01-a', 'title: t\nsummary: s', '', { big: 'x'.repeat(256 * 1024 + 1) }), /01-a\/files\/big: larger than/],
  ];
  for (const [what, make, message] of invalid) {
    it(`fails loudly on ${what}`, async () => {
      make();
      await expect(loadLessons(base)).rejects.toThrow(message);
    });
  }

  it('loads the shipped lessons, whose file blocks name their starter files', async () => {
    const catalog = await loadLessons(repoLessons);
    expect(catalog.list().map((l) => l.slug)).toEqual(['first-container', 'images-are-layers']);
    const layers = catalog.get('images-are-layers')!;
    expect(layers.files).toEqual(['Dockerfile', 'app.sh', 'packages.txt']);
    // The lesson shows the starter Dockerfile as its first file block: the two must not drift apart.
    const firstBlock = /```dockerfile file=Dockerfile\n([\s\S]*?)```/.exec(layers.markdown)![1];
    expect(catalog.starterFiles('images-are-layers').find((f) => f.path === 'Dockerfile')!.content.toString()).toBe(firstBlock);
    for (const l of catalog.list()) {
      for (const block of catalog.get(l.slug)!.markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
        // The Run button types each line as a command: no continuations, no blank lines.
        expect(block[1]!.trimEnd().split('\n').filter((line) => line.trim() === '' || line.endsWith('\\')), `${l.slug}: ${block[1]}`).toEqual([]);
      }
    }
  });
});

describe('parseFrontmatter', () => {
  it('needs an opening and a closing ---', () => {
    expect(() => parseFrontmatter('title: t\n', 'f.md')).toThrow(/f\.md: must start with a --- frontmatter block/);
    expect(() => parseFrontmatter('---\ntitle: t\n', 'f.md')).toThrow(/not closed/);
    expect(parseFrontmatter('---\n# comment\ntitle:  spaced  \n---\nbody', 'f.md')).toEqual({ data: { title: 'spaced' }, body: 'body' });
  });
});
