import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceError, WorkspaceFiles } from '../../server/workspace/files.ts';

/**
 * The workspace file service against a learner who is root in the shell: every case is something that can be
 * typed there (links, FIFOs, sockets, hardlinks, swaps mid-operation). Each asserts the defensive outcome and
 * that nothing outside the workspace changed.
 */
const base = '/tmp/workspace-files-test';
const ws = path.join(base, 'ws');
const outside = path.join(base, 'outside');
const files = new WorkspaceFiles(ws, { maxFileBytes: 4096, maxEntries: 200 });

function sh(args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
}

/** Every path below `dir` with its type, mode, inode and content hash: what "unchanged" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    const what = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
    out[path.relative(dir, p)] = `${st.mode.toString(8)} ${st.ino} ${st.mtimeMs} ${what}`;
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
  };
  visit(dir);
  return out;
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof WorkspaceError) return err.status;
    throw err;
  }
}

const fdCount = () => fs.readdirSync('/proc/self/fd').length;

describe('WorkspaceFiles against a hostile learner', () => {
  let before: Record<string, string>;
  let passwd: string;
  let fdsBefore: number;

  beforeAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(ws, { recursive: true });
    fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret'), 'outside secret\n');
    fs.writeFileSync(path.join(outside, 'dir', 'kept'), 'kept\n');
    before = snapshot(outside);
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
    fdsBefore = fdCount();
  });

  afterAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('refuses absolute paths, .., empty components and NUL bytes before touching the disk', async () => {
    for (const bad of ['/etc/passwd', '../outside/secret', 'a/../../outside/secret', '..', '.', '', 'a//b', 'a/', './a', 'a\0b', 'x'.repeat(256)]) {
      expect(await status(files.read(bad)), bad).toBe(400);
      expect(await status(files.write(bad, 'pwned')), bad).toBe(400);
      expect(await status(files.mkdir(bad)), bad).toBe(400);
      expect(await status(files.remove(bad)), bad).toBe(400);
      expect(await status(files.rename(bad, 'ok')), bad).toBe(400);
      expect(await status(files.rename('ok', bad)), bad).toBe(400);
    }
  });

  it('never goes through a link in the middle of a path (ln -s / x; ln -s ../outside o)', async () => {
    sh(['ln', '-s', '/', path.join(ws, 'x')]);
    sh(['ln', '-s', outside, path.join(ws, 'o')]);
    fs.writeFileSync(path.join(ws, 'plain'), 'plain\n');
    for (const through of ['x/etc/passwd', `x${outside}/secret`, 'o/secret', 'o/dir/kept']) {
      expect(await status(files.read(through)), through).toBeGreaterThanOrEqual(400);
      expect(await status(files.write(through, 'pwned')), through).toBeGreaterThanOrEqual(400);
      expect(await status(files.remove(through)), through).toBeGreaterThanOrEqual(400);
      expect(await status(files.rename(through, 'stolen')), through).toBeGreaterThanOrEqual(400);
      expect(await status(files.rename('plain', through)), through).toBeGreaterThanOrEqual(400);
    }
    expect(await status(files.mkdir('o/newdir'))).toBeGreaterThanOrEqual(400);
    expect(await status(files.mkdir('x/tmp/escaped'))).toBeGreaterThanOrEqual(400);
    const listed = await files.list();
    expect(listed.filter((e) => e.path === 'x' || e.path === 'o').map((e) => e.type)).toEqual(['symlink', 'symlink']);
    expect(listed.some((e) => e.path.startsWith('x/') || e.path.startsWith('o/'))).toBe(false);
    // Deleting a link deletes the link, not what it points to.
    await files.remove('o');
    await files.remove('x');
    expect(fs.existsSync(path.join(ws, 'o'))).toBe(false);
    expect(fs.existsSync('/tmp')).toBe(true);
    expect(fs.existsSync('/tmp/escaped')).toBe(false);
    expect(snapshot(outside)).toEqual(before);
  });

  it('refuses to read or save through a final link to /etc/passwd or a file outside', async () => {
    sh(['ln', '-s', '/etc/passwd', path.join(ws, 'passwd')]);
    sh(['ln', '-s', path.join(outside, 'secret'), path.join(ws, 'secret')]);
    for (const link of ['passwd', 'secret']) {
      expect(await status(files.read(link))).toBe(400);
      expect(await status(files.write(link, 'root::0:0::/root:/bin/sh\n'))).toBe(400);
    }
    // Moving a link moves the link.
    const moved = await files.rename('secret', 'secret-moved');
    expect(moved.type).toBe('symlink');
    expect(fs.readlinkSync(path.join(ws, 'secret-moved'))).toBe(path.join(outside, 'secret'));
    expect(fs.readFileSync('/etc/passwd', 'utf8')).toBe(passwd);
    expect(snapshot(outside)).toEqual(before);
  });

  it('opens neither a FIFO nor a socket (a read does not hang)', async () => {
    sh(['mkfifo', path.join(ws, 'fifo')]);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(ws, 'sock'), resolve));
    try {
      const started = Date.now();
      expect(await status(files.read('fifo'))).toBe(400);
      expect(await status(files.read('sock'))).toBe(400);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await status(files.write('fifo', 'x'))).toBe(400);
      const types = Object.fromEntries((await files.list()).map((e) => [e.path, e.type]));
      expect(types).toMatchObject({ fifo: 'other', sock: 'other' });
      await files.remove('fifo');
      expect(fs.existsSync(path.join(ws, 'fifo'))).toBe(false);
    } finally {
      server.close();
    }
  });

  it('saves over a hardlink to an outside file by replacing the name, never writing the outside inode', async () => {
    // A directory of its own: creating the target changes the outside directory's mtime.
    const elsewhere = path.join(base, 'hardlink-outside');
    const target = path.join(elsewhere, 'hardlinked');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(target, 'outside content\n');
    const snap = snapshot(elsewhere);
    sh(['ln', target, path.join(ws, 'hl')]);
    const entry = await files.write('hl', 'learner content\n');
    expect(entry).toMatchObject({ path: 'hl', type: 'file', size: 16 });
    expect(fs.readFileSync(path.join(ws, 'hl'), 'utf8')).toBe('learner content\n');
    expect(fs.statSync(path.join(ws, 'hl')).ino).not.toBe(fs.statSync(target).ino);
    expect(snapshot(elsewhere)).toEqual(snap);
  });

  it('deletes a directory recursively without following the links inside it', async () => {
    fs.mkdirSync(path.join(ws, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'tree/sub/f'), 'f');
    sh(['ln', '-s', outside, path.join(ws, 'tree/sub/out')]);
    sh(['ln', '-s', path.join(outside, 'secret'), path.join(ws, 'tree/secret')]);
    sh(['mkfifo', path.join(ws, 'tree/fifo')]);
    await files.remove('tree');
    expect(fs.existsSync(path.join(ws, 'tree'))).toBe(false);
    expect(snapshot(outside)).toEqual(before);
  });

  it('tells text from binary and too-large, and keeps modes sensible', async () => {
    fs.writeFileSync(path.join(ws, 'bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]));
    fs.writeFileSync(path.join(ws, 'latin1'), Buffer.from('caf\xe9\n', 'latin1'));
    fs.writeFileSync(path.join(ws, 'big'), 'a'.repeat(5000));
    expect(await files.read('bin')).toMatchObject({ kind: 'binary', size: 6 });
    expect(await files.read('latin1')).toMatchObject({ kind: 'binary' });
    expect(await files.read('big')).toMatchObject({ kind: 'too-large', size: 5000 });
    expect(await status(files.write('big2', 'a'.repeat(5000)))).toBe(413);
    await files.write('utf8.txt', 'héllo → wörld\n');
    expect(await files.read('utf8.txt')).toMatchObject({ kind: 'text', content: 'héllo → wörld\n' });
    expect(fs.statSync(path.join(ws, 'utf8.txt')).mode & 0o7777).toBe(0o644);
    fs.writeFileSync(path.join(ws, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await files.write('run.sh', '#!/bin/sh\necho hi\n');
    expect(fs.statSync(path.join(ws, 'run.sh')).mode & 0o7777).toBe(0o755);
    expect((await files.mkdir('made')).type).toBe('dir');
    expect(fs.statSync(path.join(ws, 'made')).mode & 0o7777).toBe(0o755);
    expect(await status(files.mkdir('made'))).toBe(409);
    expect(await status(files.write('missing/f', 'x'))).toBe(404);
    expect(await status(files.read('nope'))).toBe(404);
    expect(await status(files.read('made'))).toBe(400);
    expect(await status(files.write('made', 'x'))).toBe(400);
    expect(await status(files.rename('utf8.txt', 'run.sh'))).toBe(409);
    expect(await status(files.rename('made', 'made/inside'))).toBe(400);
    expect((await files.rename('utf8.txt', 'made/moved.txt')).path).toBe('made/moved.txt');
    await files.install([{ path: 'lesson/deep/Dockerfile', content: Buffer.from('FROM busybox\n'), mode: 0o644 }]);
    expect(fs.readFileSync(path.join(ws, 'lesson/deep/Dockerfile'), 'utf8')).toBe('FROM busybox\n');
    expect(fs.readdirSync(ws).some((n) => n.startsWith('.layerlab-save-'))).toBe(false);
  });

  it('caps the listing', async () => {
    fs.mkdirSync(path.join(ws, 'many'));
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(ws, 'many', `f${i}`), '');
    expect((await files.list()).length).toBe(200);
    fs.rmSync(path.join(ws, 'many'), { recursive: true });
  });

  it('stays inside while another process swaps a directory for a link to outside (200 writes)', async () => {
    const flipper = spawn(process.execPath, ['-e', FLIPPER, ws, outside], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const outcomes = new Map<number, number>();
      for (let i = 0; i < 200; i++) {
        const ops = [files.write(`race/f${i}`, 'raced\n'), files.mkdir(`race/d${i}`), files.read('race/secret'), files.remove(`race/f${i - 1}`)];
        if (i % 20 === 0) ops.push(files.remove('race'));
        for (const s of await Promise.all(ops.map(status))) outcomes.set(s, (outcomes.get(s) ?? 0) + 1);
      }
      expect(outcomes.get(200)).toBeGreaterThan(0);
      expect([...outcomes.keys()].every((s) => [200, 400, 404, 409].includes(s))).toBe(true);
    } finally {
      flipper.kill('SIGKILL');
      await new Promise((resolve) => flipper.once('exit', resolve));
    }
    expect(snapshot(outside)).toEqual(before);
  });

  it('leaks no descriptors', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fdCount()).toBe(fdsBefore);
  });
});

/** Swaps ws/race between a real directory and a link to the outside directory, as fast as it can. */
const FLIPPER = `
const fs = require('fs');
const [ws, outside] = process.argv.slice(1);
const race = ws + '/race', real = ws + '/race-real', link = ws + '/race-link';
const quiet = (f) => { try { f(); } catch {} };
quiet(() => fs.symlinkSync(outside, link));
const end = Date.now() + 60000;
while (Date.now() < end) {
  quiet(() => fs.mkdirSync(real));
  quiet(() => fs.renameSync(real, race));
  quiet(() => fs.renameSync(race, real));
  quiet(() => fs.renameSync(link, race));
  quiet(() => fs.renameSync(race, link));
}
`;
