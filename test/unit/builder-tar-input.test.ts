import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { readSafeTar } from '../../runtime/archive/tar-reader.ts';
import { completeTarEnd } from '../../runtime/builder/context/complete-tar.ts';
import { clampName } from '../../runtime/builder/exec/clamp-tar.ts';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function names(input: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readSafeTar(completeTarEnd(Readable.from([input])), { label: 'build context' })) {
    out.push(e.path);
    for await (const _ of e.body) void _;
  }
  return out;
}

describe('completeTarEnd: the docker CLI sends `-f` contexts without the tar end', () => {
  it('an archive cut right after the last entry data (no padding, no end blocks) reads as complete', async () => {
    const full = await tarOf({ Dockerfile: 'FROM busybox\n', '.dockerignore': '.dockerfile.x\n' });
    const cut = full.subarray(0, 512 + 512 + 512 + 14);
    expect(await names(cut)).toEqual(['Dockerfile', '.dockerignore']);
    expect(await names(full)).toEqual(['Dockerfile', '.dockerignore']);
    expect(await names(full.subarray(0, 1024))).toEqual(['Dockerfile']);
    expect(await names(gzipSync(cut))).toEqual(['Dockerfile', '.dockerignore']);
  });

  it('an archive cut inside file data or inside a header still fails as truncated', async () => {
    const full = await tarOf({ a: 'x'.repeat(1000), b: 'y' });
    await expect(names(full.subarray(0, 512 + 700))).rejects.toThrow(/Unexpected end of data/);
    await expect(names(full.subarray(0, 1536 + 100))).rejects.toThrow(/Unexpected end of data/);
  });
});

describe('clampName: ADD archives extract as if chrooted at the destination (Docker 20.10)', () => {
  it.each([
    ['../../escape', 'escape'],
    ['a/../../../b/f', 'b/f'],
    ['/etc/passwd', 'etc/passwd'],
    ['./dir/', 'dir/'],
    ['../', './'],
    ['plain', 'plain'],
  ])('%s → %s', (name, clamped) => {
    expect(clampName(name)).toBe(clamped);
  });
});
