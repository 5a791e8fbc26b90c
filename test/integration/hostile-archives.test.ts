import { randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../helpers/engine.ts';
import { entriesOf, saveArchiveWith, sha256, storeSnapshot, tarOf, type RawEntry } from './archive-helpers.ts';

/**
 * Red-team corpus for `docker load` and `docker import` (SECURITY.md, archive and path traversal): each case
 * is an archive a learner can hand the real CLI; the defence is a clear error, exit code 1, and a store and
 * namespace exactly as they were.
 */
const MAX_ENTRIES = 50;
const MAX_BYTES = 2_000_000;

let engine: TestEngine;
let work: string;

beforeAll(async () => {
  engine = await startEngine('hostile-archives', { extraArgs: ['--max-archive-entries', String(MAX_ENTRIES), '--max-archive-bytes', String(MAX_BYTES)] });
  work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-hostile-'));
});

afterAll(async () => {
  await engine?.stop();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** Hostile layer contents: each must be refused both as an import and as a layer inside a save archive. */
const LAYER_CASES: Array<{ name: string; entries: () => RawEntry[]; error: RegExp }> = [
  { name: '../ names', entries: () => [{ name: '../../evil.txt', body: 'x' }], error: /escapes the destination: "\.\.\/\.\.\/evil\.txt"/ },
  { name: 'absolute names', entries: () => [{ name: '/etc/evil', body: 'x' }], error: /has an absolute path: "\/etc\/evil"/ },
  {
    name: 'a symlink to /etc, then a write through it',
    entries: () => [
      { name: 'a', type: 'symlink', linkname: '/etc' },
      { name: 'a/passwd', body: 'root::0:0::/:/bin/sh\n' },
    ],
    error: /"a\/passwd" lies beneath the symlink "a"/,
  },
  {
    name: 'a hardlink to ../../etc/passwd',
    entries: () => [{ name: 'pw', type: 'link', linkname: '../../etc/passwd' }],
    error: /hardlink target escapes the destination: "\.\.\/\.\.\/etc\/passwd"/,
  },
  {
    name: 'a hardlink to a path not in the archive',
    entries: () => [{ name: 'shadow', type: 'link', linkname: 'etc/shadow' }],
    error: /hardlink "shadow" points at "etc\/shadow", which is not a file earlier in the archive/,
  },
  { name: 'a character device', entries: () => [{ name: 'dev/mem', type: 'character-device' }], error: /"dev\/mem" is a device node; device nodes are not allowed/ },
  { name: 'a block device', entries: () => [{ name: 'sda', type: 'block-device' }], error: /"sda" is a device node/ },
  {
    name: 'more entries than the limit',
    entries: () => Array.from({ length: MAX_ENTRIES + 10 }, (_, i) => ({ name: `f${i}`, body: 'x' })),
    error: new RegExp(`has more than ${MAX_ENTRIES} entries`),
  },
];

async function expectRefused(run: () => { code: number; stdout: string; stderr: string }, error: RegExp): Promise<void> {
  const before = await storeSnapshot(engine);
  const result = run();
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stderr).toMatch(error);
  expect(await storeSnapshot(engine)).toEqual(before);
}

async function fileWith(name: string, data: Buffer): Promise<string> {
  const file = path.join(work, name);
  await fs.writeFile(file, data);
  return file;
}

describe('hostile layers are refused by docker import and docker load', () => {
  for (const c of LAYER_CASES) {
    it(`import: ${c.name}`, async () => {
      const tar = await tarOf(c.entries());
      await expectRefused(() => engine.docker(['import', '-', 'hostile/import:1'], { input: tar }), c.error);
    });

    it(`load: ${c.name}`, async () => {
      const file = await fileWith('layer-case.tar', await saveArchiveWith(await tarOf(c.entries())));
      await expectRefused(() => engine.docker(['load', '-i', file]), c.error);
    });
  }
});

describe('oversized, corrupt and lying archives', () => {
  /** 5 MB of zeros compresses to a few kB: a gzip bomb against a 2 MB limit. */
  const bomb = () => tarOf([{ name: 'zeros', body: Buffer.alloc(5_000_000) }]);

  it('import: a gzip bomb is cut off at the byte limit', async () => {
    const gz = gzipSync(await bomb());
    expect(gz.length).toBeLessThan(50_000);
    await expectRefused(() => engine.docker(['import', '-', 'hostile/bomb:1'], { input: gz }), new RegExp(`imported archive expands to more than ${MAX_BYTES} bytes`));
  });

  it('load: a gzip-bomb layer is cut off at the byte limit', async () => {
    const file = await fileWith('bomb-layer.tar', await saveArchiveWith(await bomb(), { gzipLayer: true }));
    await expectRefused(() => engine.docker(['load', '-i', file]), new RegExp(`expands to more than ${MAX_BYTES} bytes`));
  });

  it('load: a gzip-bomb archive is cut off at the byte limit', async () => {
    const file = await fileWith('bomb-archive.tar.gz', gzipSync(await saveArchiveWith(await bomb())));
    await expectRefused(() => engine.docker(['load', '-i', file]), new RegExp(`image archive expands to more than ${MAX_BYTES} bytes`));
  });

  it('load: an archive with more entries than the limit', async () => {
    const junk = Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => ({ name: `junk/${i}`, body: 'x' }));
    const file = await fileWith('many.tar', await tarOf(junk));
    await expectRefused(() => engine.docker(['load', '-i', file]), new RegExp(`image archive has more than ${MAX_ENTRIES} entries`));
  });

  it("load: a layer that does not match its config's diff_id", async () => {
    const layer = await tarOf([{ name: 'etc/motd', body: 'real content\n' }]);
    const lie = sha256('something else');
    const file = await fileWith('mismatch.tar', await saveArchiveWith(layer, { diffId: lie }));
    await expectRefused(() => engine.docker(['load', '-i', file]), new RegExp(`does not match its diff ID: expected ${lie}, got ${sha256(layer)}`));
  });

  it('load: a failure in the second image removes the layers the first one added', async () => {
    const good = await tarOf([{ name: 'etc/good', body: `good ${Date.now()}\n` }]);
    const bad = await tarOf([{ name: 'etc/bad', body: 'bad\n' }]);
    const one = await entriesOf(await saveArchiveWith(good, { tag: 'hostile/good:1' }));
    const two = await entriesOf(await saveArchiveWith(bad, { diffId: sha256('not it'), layerPath: 'layer2/layer.tar', tag: 'hostile/bad:1' }));
    const manifest = [...JSON.parse(String(one.find((e) => e.name === 'manifest.json')!.body)), ...JSON.parse(String(two.find((e) => e.name === 'manifest.json')!.body))];
    const merged = [...one, ...two].filter((e) => e.name !== 'manifest.json');
    const file = await fileWith('partial.tar', await tarOf([...merged, { name: 'manifest.json', body: JSON.stringify(manifest) }]));
    await expectRefused(() => engine.docker(['load', '-i', file]), /layer 1 of image [a-f0-9]{12} \(layer2\/layer\.tar\) does not match its diff ID/);
  });

  it('load: a manifest.json pointing outside the archive', async () => {
    const layer = await tarOf([{ name: 'etc/motd', body: 'hi\n' }]);
    const file = await fileWith('outside.tar', await saveArchiveWith(layer, { layerPath: '../x/layer.tar' }));
    await expectRefused(() => engine.docker(['load', '-i', file]), /layer "\.\.\/x\/layer\.tar" points outside the archive/);
  });

  it('load: a manifest.json layer reached through a symlink out of the archive', async () => {
    const layer = await tarOf([{ name: 'etc/motd', body: 'hi\n' }]);
    const archive = await saveArchiveWith(layer, { layerPath: 'escape/layer.tar' });
    // Replace the real layer dir by a symlink climbing out of the archive.
    const entries = await tarOf([
      { name: 'escape', type: 'symlink', linkname: '../../..' },
      ...(await entriesOf(archive)).filter((e) => !e.name.startsWith('escape/')),
    ]);
    const file = await fileWith('symlink-out.tar', entries);
    await expectRefused(() => engine.docker(['load', '-i', file]), /layer "escape\/layer\.tar" points outside the archive/);
  });

  it('load: a truncated archive', async () => {
    const layer = await tarOf([{ name: 'etc/data', body: randomBytes(20_000) }]);
    const whole = await saveArchiveWith(layer);
    const file = await fileWith('truncated.tar', whole.subarray(0, Math.floor(whole.length / 2)));
    await expectRefused(() => engine.docker(['load', '-i', file]), /image archive is not a valid tar archive: /);
  });

  it('import: a truncated archive', async () => {
    const tar = await tarOf([{ name: 'etc/data', body: randomBytes(20_000) }]);
    await expectRefused(() => engine.docker(['import', '-', 'hostile/trunc:1'], { input: tar.subarray(0, 10_000) }), /imported archive is not a valid tar archive: /);
  });

  it('load: garbage input', async () => {
    const file = await fileWith('garbage.bin', randomBytes(8192));
    await expectRefused(() => engine.docker(['load', '-i', file]), /image archive is not a valid tar archive: /);
  });

  it('import: garbage input', async () => {
    await expectRefused(() => engine.docker(['import', '-', 'hostile/garbage:1'], { input: randomBytes(8192) }), /imported archive is not a valid tar archive: /);
  });
});

describe('the corpus can fail', () => {
  it('a benign archive built by the same helpers loads and changes the store', async () => {
    const before = await storeSnapshot(engine);
    const file = await fileWith('benign.tar', await saveArchiveWith(await tarOf([{ name: 'etc/motd', body: 'fine\n' }]), { tag: 'hostile/benign:1' }));
    const result = engine.docker(['load', '-i', file]);
    expect(result.stdout + result.stderr).toBe('Loaded image: hostile/benign:1\n');
    expect(await storeSnapshot(engine)).not.toEqual(before);
  });
});

