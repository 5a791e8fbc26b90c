import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCatalog, RECIPE_FILE, type CatalogPlan } from '../../runtime/catalog/build.ts';
import { Catalog } from '../../runtime/catalog/catalog.ts';
import type { ImageRecipe } from '../../runtime/catalog/recipe.ts';
import { REPO_ROOT, waitFor } from '../helpers/engine.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-catalog-build-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** A recipe making one small layer; `builds` counts how often it ran. */
function fakeRecipe(name: string, version: string, opts: { fail?: boolean } = {}): ImageRecipe & { builds: number } {
  const recipe = {
    refs: [`${name}:latest`],
    description: `fake ${name}`,
    version,
    builds: 0,
    async build(work: string, log: (line: string) => void) {
      recipe.builds++;
      log('making the layer');
      if (opts.fail) throw new Error(`recipe ${name} failed on purpose`);
      await fs.mkdir(path.join(work, 'rootfs/etc'), { recursive: true });
      await fs.writeFile(path.join(work, 'rootfs/etc/version'), version);
      return { layers: [{ dir: path.join(work, 'rootfs'), createdBy: `fake ${version}` }], cmd: ['true'], labels: {} };
    },
  };
  return recipe;
}

/** A plan of recipes only: these tests build no Dockerfile image (that needs the real debian base). */
function only(recipes: ImageRecipe[]): CatalogPlan {
  return { recipes, dockerfiles: [] };
}

/** What sits next to the catalog besides it: scratch dirs or a lock here would be left-overs. */
async function siblings(dir: string): Promise<string[]> {
  return (await fs.readdir(path.dirname(dir))).filter((n) => n !== path.basename(dir)).sort();
}

describe('ensureCatalog', () => {
  it('builds once, logs progress, and is a no-op while the recipes stay the same', async () => {
    const dir = path.join(root, 'once', 'catalog');
    const a = fakeRecipe('a', 'a/1');
    const b = fakeRecipe('b', 'b/1');
    const lines: string[] = [];
    expect(await ensureCatalog(dir, (l) => lines.push(l), only([a, b]))).toBe(true);
    expect((await Catalog.open(dir)).names()).toEqual(['a:latest', 'b:latest']);
    expect(lines).toContain('a:latest: making the layer');
    expect(lines.some((l) => /^b:latest: image [0-9a-f]{12}, /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^image catalog ready: a:latest, b:latest/);

    const started = performance.now();
    expect(await ensureCatalog(dir, () => undefined, only([a, b]))).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
    expect(a.builds + b.builds).toBe(2);
    expect(await siblings(dir)).toEqual([]);
  });

  it('rebuilds when a recipe changes, replacing the old catalog whole', async () => {
    const dir = path.join(root, 'change', 'catalog');
    await ensureCatalog(dir, () => undefined, only([fakeRecipe('a', 'a/1'), fakeRecipe('old', 'old/1')]));
    expect(await ensureCatalog(dir, () => undefined, only([fakeRecipe('a', 'a/2')]))).toBe(true);
    expect((await Catalog.open(dir)).names()).toEqual(['a:latest']);
    expect(await fs.readFile(path.join(dir, RECIPE_FILE), 'utf8')).toContain('a/2');
    expect(await siblings(dir)).toEqual([]);
  });

  it('keeps system images out of the learner entries', async () => {
    const dir = path.join(root, 'system', 'catalog');
    const system: ImageRecipe = { ...fakeRecipe('org/tool', 'tool/1'), system: true };
    await ensureCatalog(dir, () => undefined, only([fakeRecipe('a', 'a/1'), system]));
    const catalog = await Catalog.open(dir);
    expect(catalog.names()).toEqual(['a:latest']);
    expect(catalog.systemEntries.map((e) => e.name)).toEqual(['org/tool:latest']);
  });

  it('leaves the previous catalog untouched when a build fails', async () => {
    const dir = path.join(root, 'fail', 'catalog');
    await ensureCatalog(dir, () => undefined, only([fakeRecipe('a', 'a/1')]));
    const before = await fs.readFile(path.join(dir, 'index.json'));
    await expect(ensureCatalog(dir, () => undefined, only([fakeRecipe('a', 'a/2'), fakeRecipe('b', 'b/1', { fail: true })]))).rejects.toThrow(/failed on purpose/);
    expect(await fs.readFile(path.join(dir, 'index.json'))).toEqual(before);
    expect(await fs.readFile(path.join(dir, RECIPE_FILE), 'utf8')).toContain('a/1');
    expect(await siblings(dir)).toEqual([]);
  });

  it('lets concurrent calls in one process build once', async () => {
    const dir = path.join(root, 'same-process', 'catalog');
    const a = fakeRecipe('a', 'a/1');
    const results = await Promise.all([ensureCatalog(dir, () => undefined, only([a])), ensureCatalog(dir, () => undefined, only([a]))]);
    expect(results.sort()).toEqual([false, true]);
    expect(a.builds).toBe(1);
  });
});

/** A separate process building a catalog with one slow recipe; it appends its pid to `marker` when it starts. */
const SCRIPT = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { ensureCatalog } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime/catalog/build.ts'))};
const [dir, mode, marker] = process.argv.slice(2);
const recipe = {
  refs: ['slow:latest'], description: 'slow', version: 'slow/1',
  async build(work) {
    appendFileSync(marker, process.pid + '\\n');
    if (mode === 'hang') await new Promise(() => setInterval(() => {}, 1000));
    await new Promise((r) => setTimeout(r, 1500));
    mkdirSync(work + '/rootfs');
    writeFileSync(work + '/rootfs/f', 'x');
    return { layers: [{ dir: work + '/rootfs', createdBy: 'slow' }], cmd: ['true'], labels: {} };
  },
};
await ensureCatalog(dir, (line) => console.log(line), { recipes: [recipe], dockerfiles: [] });
`;

async function builder(dir: string, mode: 'slow' | 'hang', marker: string): Promise<{ child: ChildProcess; done: Promise<number | null> }> {
  const script = path.join(root, 'builder.mts');
  await fs.writeFile(script, SCRIPT);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir, mode, marker], { cwd: REPO_ROOT, stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, done };
}

async function markerLines(marker: string): Promise<string[]> {
  return (await fs.readFile(marker, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

describe('ensureCatalog across processes', () => {
  it('makes a second setup wait for the first instead of building too', async () => {
    const dir = path.join(root, 'two-processes', 'catalog');
    const marker = path.join(root, 'two-processes.marker');
    const first = await builder(dir, 'slow', marker);
    const second = await builder(dir, 'slow', marker);
    expect(await first.done).toBe(0);
    expect(await second.done).toBe(0);
    expect(await markerLines(marker)).toHaveLength(1);
    expect((await Catalog.open(dir)).names()).toEqual(['slow:latest']);
    expect(await siblings(dir)).toEqual([]);
  }, 60_000);

  it('survives a build killed with SIGKILL: the old catalog stays, the next setup cleans up and builds', async () => {
    const dir = path.join(root, 'killed', 'catalog');
    const marker = path.join(root, 'killed.marker');
    await ensureCatalog(dir, () => undefined, only([fakeRecipe('old', 'old/1')]));
    const before = await fs.readFile(path.join(dir, 'index.json'));
    const { child, done } = await builder(dir, 'hang', marker);
    await waitFor(() => existsSync(marker), 30_000);
    expect((await siblings(dir)).some((n) => n.startsWith('.catalog.build-'))).toBe(true);
    child.kill('SIGKILL');
    await done;
    expect(await fs.readFile(path.join(dir, 'index.json'))).toEqual(before);
    expect(await siblings(dir)).toContain('catalog.lock'); // its holder is dead

    expect(await ensureCatalog(dir, () => undefined, only([fakeRecipe('new', 'new/1')]))).toBe(true);
    expect((await Catalog.open(dir)).names()).toEqual(['new:latest']);
    expect(await siblings(dir)).toEqual([]);
  }, 60_000);
});
