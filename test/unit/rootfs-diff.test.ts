import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { writeRootfsDiff } from '../../runtime/catalog/rootfs-diff.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-rootfs-diff-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

let lower = '';
let upper = '';
let out = '';
let n = 0;
beforeEach(async () => {
  const dir = path.join(root, `case-${n++}`);
  [lower, upper, out] = ['lower', 'upper', 'out'].map((d) => path.join(dir, d)) as [string, string, string];
  await fs.mkdir(lower, { recursive: true });
  await fs.mkdir(upper, { recursive: true });
});

/** Write the same tree into both sides: a base both "bootstraps" share. */
async function both(rel: string, content: string | null, mode = 0o644): Promise<void> {
  for (const side of [lower, upper]) await put(side, rel, content, mode);
}

/** A file (or a directory, for null) with exactly `mode`. */
async function put(side: string, rel: string, content: string | null, mode = 0o644): Promise<void> {
  const full = path.join(side, rel);
  await fs.mkdir(path.dirname(full), { recursive: true });
  if (content === null) await fs.mkdir(full, { recursive: true });
  else await fs.writeFile(full, content);
  await fs.chmod(full, mode);
}

/** Every path in `out`, directories with a trailing slash, sorted. */
async function listOut(): Promise<string[]> {
  const names: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(out, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      names.push(e.isDirectory() ? `${child}/` : child);
      if (e.isDirectory()) await walk(child);
    }
  };
  await walk('');
  return names.sort();
}

describe('writeRootfsDiff', () => {
  it('carries added and changed files and leaves out files that only differ in mtime', async () => {
    await both('etc/same', 'same');
    await fs.utimes(path.join(upper, 'etc/same'), 1, 1); // made again at install time: equal bytes, new mtime
    await both('etc/changed', 'aaaa');
    await fs.writeFile(path.join(upper, 'etc/changed'), 'bbbb'); // same size, other bytes
    await both('usr/bin/tool', '#!', 0o755);
    await fs.chmod(path.join(upper, 'usr/bin/tool'), 0o700);
    await both('usr/lib/owned', 'x');
    await fs.lchown(path.join(upper, 'usr/lib/owned'), 1000, 1000);
    await both('usr/share/untouched/deep/file', 'x');
    await put(upper, 'etc/new', 'new');

    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 1, changed: 3, deleted: 0 });
    expect(await listOut()).toEqual(['etc/', 'etc/changed', 'etc/new', 'usr/', 'usr/bin/', 'usr/bin/tool', 'usr/lib/', 'usr/lib/owned']);
    expect(await fs.readFile(path.join(out, 'etc/changed'), 'utf8')).toBe('bbbb');
    expect((await fs.stat(path.join(out, 'usr/bin/tool'))).mode & 0o7777).toBe(0o700);
    expect((await fs.stat(path.join(out, 'usr/lib/owned'))).uid).toBe(1000);
  });

  it('writes whiteouts for deleted files and directories (one for a whole directory)', async () => {
    await both('etc/keep', 'k');
    await both('etc/gone', 'g');
    await both('var/old/a/b', 'b');
    await both('var/keep', 'k');

    await fs.rm(path.join(upper, 'etc/gone'));
    await fs.rm(path.join(upper, 'var/old'), { recursive: true });
    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 0, changed: 0, deleted: 2 });
    expect(await listOut()).toEqual(['etc/', 'etc/.wh.gone', 'var/', 'var/.wh.old']);
    expect((await fs.stat(path.join(out, 'etc/.wh.gone'))).size).toBe(0);
  });

  it('stores symlinks, never following them, and compares their targets', async () => {
    for (const side of [lower, upper]) {
      await fs.symlink('usr/bin', path.join(side, 'bin'));
      await fs.symlink('/etc/alternatives/vi', path.join(side, 'vi'));
    }
    await fs.rm(path.join(upper, 'vi'));
    await fs.symlink('/usr/bin/vim.tiny', path.join(upper, 'vi'));
    await fs.symlink('/dev/stdout', path.join(upper, 'access.log'));

    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 1, changed: 1, deleted: 0 });
    expect(await listOut()).toEqual(['access.log', 'vi']);
    expect(await fs.readlink(path.join(out, 'vi'))).toBe('/usr/bin/vim.tiny');
    expect(await fs.readlink(path.join(out, 'access.log'))).toBe('/dev/stdout');
  });

  it('carries a directory whose mode changed without its unchanged children, with the mode and mtime of upper', async () => {
    await both('tmp', null, 0o755);
    await both('tmp/file', 'f');
    await fs.chmod(path.join(upper, 'tmp'), 0o1777);
    await fs.utimes(path.join(upper, 'tmp'), 1_000_000, 1_000_000);

    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 0, changed: 1, deleted: 0 });
    expect(await listOut()).toEqual(['tmp/']);
    const st = await fs.stat(path.join(out, 'tmp'));
    expect(st.mode & 0o7777).toBe(0o1777);
    expect(st.mtimeMs).toBe(1_000_000_000);
  });

  it('gives the directories it makes for new files the metadata of upper', async () => {
    await both('srv', null, 0o755);
    await put(upper, 'srv/www/site/index.html', 'hi');
    await fs.chmod(path.join(upper, 'srv/www'), 0o750);
    await fs.utimes(path.join(upper, 'srv/www'), 2_000_000, 2_000_000);

    await writeRootfsDiff(lower, upper, out);
    expect(await listOut()).toEqual(['srv/', 'srv/www/', 'srv/www/site/', 'srv/www/site/index.html']);
    const st = await fs.stat(path.join(out, 'srv/www'));
    expect(st.mode & 0o7777).toBe(0o750);
    expect(st.mtimeMs).toBe(2_000_000_000);
  });

  it('keeps hard links among new files, and a new link to an unchanged file becomes a file of its own', async () => {
    await both('usr/c', 'shared content');
    await put(upper, 'usr/a', 'linked');
    await fs.link(path.join(upper, 'usr/a'), path.join(upper, 'usr/b'));
    await fs.link(path.join(upper, 'usr/c'), path.join(upper, 'usr/d'));

    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 3, changed: 0, deleted: 0 });
    expect(await listOut()).toEqual(['usr/', 'usr/a', 'usr/b', 'usr/d']);
    const [a, b] = await Promise.all([fs.stat(path.join(out, 'usr/a')), fs.stat(path.join(out, 'usr/b'))]);
    expect(a.ino).toBe(b.ino);
    expect(await fs.readFile(path.join(out, 'usr/d'), 'utf8')).toBe('shared content');
  });

  it('replaces an entry whose type changed, whole', async () => {
    await both('opt/x', 'a file');
    await both('opt/y/child', 'c');
    await fs.rm(path.join(upper, 'opt/x'));
    await put(upper, 'opt/x/inside', 'now a directory');
    await fs.rm(path.join(upper, 'opt/y'), { recursive: true });
    await fs.writeFile(path.join(upper, 'opt/y'), 'now a file');

    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 0, changed: 2, deleted: 0 });
    expect(await listOut()).toEqual(['opt/', 'opt/x/', 'opt/x/inside', 'opt/y']);
  });

  it('is empty for identical trees, and refuses a name that would read as a whiteout', async () => {
    await both('etc/passwd', 'root:x:0:0');
    expect(await writeRootfsDiff(lower, upper, out)).toEqual({ added: 0, changed: 0, deleted: 0 });
    expect(await listOut()).toEqual([]);

    await put(upper, 'etc/.wh.passwd', '');
    await expect(writeRootfsDiff(lower, upper, `${out}-2`)).rejects.toThrow(/whiteout/);
  });
});
