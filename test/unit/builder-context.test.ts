import { randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_LIMITS } from '../../runtime/archive/limits.ts';
import { BuildContext } from '../../runtime/builder/context/build-context.ts';
import { ContentPool } from '../../runtime/builder/context/context-files.ts';

const MiB = 1024 * 1024;
const MTIME = new Date('2024-01-01T00:00:00Z');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'layerlab-context-'));
});
afterAll(async () => fs.rm(scratch, { recursive: true, force: true }));

type Entry = [Partial<Header> & { name: string }, (string | Buffer)?];

/** A context tar as the CLI sends it, split into 64 KiB pieces the way a socket delivers it. */
async function tarOf(entries: Entry[]): Promise<Readable> {
  const pack = tarStream.pack();
  for (const [header, content] of entries) pack.entry({ mode: 0o644, uid: 0, gid: 0, mtime: MTIME, ...header }, content ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  const pieces: Buffer[] = [];
  for (let at = 0; at < all.length; at += 64 * 1024) pieces.push(all.subarray(at, at + 64 * 1024));
  return Readable.from(pieces);
}

async function open(entries: Entry[], opts: { memory?: ContentPool; dockerfile?: string } = {}): Promise<BuildContext> {
  const dir = await fs.mkdtemp(path.join(scratch, 'ctx-'));
  return BuildContext.fromTar(await tarOf(entries), { dir, limits: DEFAULT_ARCHIVE_LIMITS, ...opts });
}

const sizeOf = async (ctx: BuildContext, rel: string) => (await fs.lstat(path.join(ctx.root, rel))).size;

describe('build context: file content is held in memory until a COPY needs it', () => {
  it('receiving a context writes empty files; materialise() writes content, mode and times; the TarSums do not depend on it', async () => {
    const big = randomBytes(3 * MiB + 123);
    const entries: Entry[] = [[{ name: 'Dockerfile' }, 'FROM base\n'], [{ name: 'run.sh', mode: 0o755 }, '#!/bin/sh\n'], [{ name: 'sub/big.bin' }, big], [{ name: 'empty' }, '']];
    const held = await open(entries);
    const written = await open(entries, { memory: new ContentPool(0) });
    try {
      expect(held.dockerfileText).toBe('FROM base\n');
      for (const rel of ['Dockerfile', 'run.sh', 'sub/big.bin']) {
        expect(await sizeOf(held, rel)).toBe(0);
        expect(held.hashOf(rel)).toBe(written.hashOf(rel));
      }
      expect(await sizeOf(written, 'sub/big.bin')).toBe(big.length);
      await held.materialise();
      expect((await fs.readFile(path.join(held.root, 'sub/big.bin'))).equals(big)).toBe(true);
      expect(await fs.readFile(path.join(held.root, 'run.sh'), 'utf8')).toBe('#!/bin/sh\n');
      const st = await fs.lstat(path.join(held.root, 'run.sh'));
      expect([st.mode & 0o7777, st.mtime.getTime()]).toEqual([0o755, MTIME.getTime()]);
      expect(await sizeOf(held, 'empty')).toBe(0);
    } finally {
      await held.cleanup();
      await written.cleanup();
    }
  });

  it('a context larger than the memory bound: what does not fit is written at once, and all of it arrives intact', async () => {
    const memory = new ContentPool(2 * MiB);
    const first = randomBytes(1.5 * MiB);
    const second = randomBytes(1.5 * MiB);
    const huge = randomBytes(5 * MiB);
    const ctx = await open([[{ name: 'Dockerfile' }, 'FROM base\n'], [{ name: 'first' }, first], [{ name: 'second' }, second], [{ name: 'huge' }, huge], [{ name: 'small' }, 'fits\n']], { memory });
    try {
      expect(await sizeOf(ctx, 'first')).toBe(0);
      expect(await sizeOf(ctx, 'second')).toBe(second.length);
      expect(await sizeOf(ctx, 'huge')).toBe(huge.length);
      expect(memory.take(1)).toBeUndefined();
      await ctx.materialise();
      for (const [rel, content] of [['first', first], ['second', second], ['huge', huge]] as const) {
        expect((await fs.readFile(path.join(ctx.root, rel))).equals(content)).toBe(true);
      }
      expect(await fs.readFile(path.join(ctx.root, 'small'), 'utf8')).toBe('fits\n');
    } finally {
      await ctx.cleanup();
    }
    expect(memory.take(2)).toHaveLength(2);
  });

  it('a failed context gives its memory back and leaves no files', async () => {
    const memory = new ContentPool(MiB);
    const dir = await fs.mkdtemp(path.join(scratch, 'failed-'));
    const tar = await tarOf([[{ name: 'notes.txt' }, 'no Dockerfile here\n']]);
    await expect(BuildContext.fromTar(tar, { dir, limits: DEFAULT_ARCHIVE_LIMITS, memory })).rejects.toThrow('Cannot locate specified Dockerfile: Dockerfile');
    expect(await fs.readdir(dir)).toEqual([]);
    expect(memory.take(1)).toHaveLength(1);
  });

  it('held content goes only to a path that is still its own: through a hardlink, never through a symlink that replaced its directory', async () => {
    const outside = await fs.mkdtemp(path.join(scratch, 'outside-'));
    await fs.writeFile(path.join(outside, 'f'), 'host file\n');
    const ctx = await open([
      [{ name: 'Dockerfile' }, 'FROM base\n'],
      [{ name: 'd/f' }, 'held content\n'],
      [{ name: 'h', type: 'link', linkname: 'd/f' }],
      [{ name: 'd', type: 'symlink', linkname: outside, mode: 0o777 }],
    ]);
    try {
      await ctx.materialise();
      expect(await fs.readFile(path.join(outside, 'f'), 'utf8')).toBe('host file\n');
      expect(await fs.readFile(path.join(ctx.root, 'h'), 'utf8')).toBe('held content\n');
      expect(await fs.readlink(path.join(ctx.root, 'd'))).toBe(outside);
    } finally {
      await ctx.cleanup();
    }
  });

  it('.dockerignore removals are forgotten: materialise() writes only what is left', async () => {
    const ctx = await open([[{ name: 'Dockerfile' }, 'FROM base\n'], [{ name: '.dockerignore' }, 'secret\nDockerfile\n'], [{ name: 'secret/key' }, 'k'], [{ name: 'keep' }, 'kept\n']]);
    try {
      await ctx.materialise();
      expect((await fs.readdir(ctx.root)).sort()).toEqual(['.dockerignore', 'keep']);
      expect(await fs.readFile(path.join(ctx.root, 'keep'), 'utf8')).toBe('kept\n');
    } finally {
      await ctx.cleanup();
    }
  });

  it('the Dockerfile is found through directory symlinks inside the context, never outside it', async () => {
    const outside = await fs.mkdtemp(path.join(scratch, 'host-'));
    await fs.writeFile(path.join(outside, 'passwd'), 'root:x:0:0\n');
    const entries: Entry[] = [
      [{ name: 'real/Dockerfile' }, 'FROM inside\n'],
      [{ name: 'in', type: 'symlink', linkname: 'real', mode: 0o777 }],
      [{ name: 'out', type: 'symlink', linkname: outside, mode: 0o777 }],
    ];
    const inside = await open(entries, { dockerfile: 'in/Dockerfile' });
    expect(inside.dockerfileText).toBe('FROM inside\n');
    await inside.cleanup();
    await expect(open(entries, { dockerfile: 'out/passwd' })).rejects.toThrow('Cannot locate specified Dockerfile: out/passwd');
  });
});
