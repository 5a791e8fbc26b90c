import { promises as fs } from 'node:fs';
import path from 'node:path';
import { shortId } from '../util/digest.ts';
import { fsyncDir, pathExists } from '../util/fsx.ts';
import { KeyedMutex } from '../util/locks.ts';
import { withBuildLock } from './build-lock.ts';
import { busyboxRecipe } from './busybox.ts';
import { debianRecipe, debianSlimRecipe } from './debian.ts';
import { helloWorldRecipe } from './hello-world.ts';
import { nginxRecipe } from './nginx.ts';
import { shellRecipe } from './shell.ts';
import { LayoutWriter, type WrittenLayer } from './oci-writer.ts';
import { catalogError, imageConfig, type BaseImage, type CatalogLog, type ImageRecipe } from './recipe.ts';

/** The images setup builds, in build order (quick ones first). */
export const CATALOG_RECIPES: readonly ImageRecipe[] = [busyboxRecipe, helloWorldRecipe, debianSlimRecipe, debianRecipe, nginxRecipe, shellRecipe];

/** Written into the layout last: a catalog with a different stamp was made by another recipe and is rebuilt. */
export const RECIPE_FILE = 'layerlab-recipe.json';
/** Bumped when the layout format itself (not one image's recipe) changes. */
/** 2: layer sizes count symlinks, as Docker's do. */
const LAYOUT_FORMAT = 2;
/** The lock file keeps other processes out; this keeps concurrent calls in one process in line. */
const inProcess = new KeyedMutex();

/** The stamp a catalog built from `recipes` carries. */
export function recipeStamp(recipes: readonly ImageRecipe[]): string {
  return `${JSON.stringify({ format: LAYOUT_FORMAT, images: recipes.map((r) => r.version) })}\n`;
}

/**
 * Make sure `dir` holds the catalog the recipes describe. When it does, this reads one small file and returns
 * false. Otherwise it builds the whole layout in a scratch directory next to `dir` and renames it into place
 * only when complete, so a build killed at any point leaves the previous catalog (or none), never half of one.
 */
export async function ensureCatalog(dir: string, log: CatalogLog, recipes: readonly ImageRecipe[] = CATALOG_RECIPES): Promise<boolean> {
  const stamp = recipeStamp(recipes);
  if (await isCurrent(dir, stamp)) return false;
  await fs.mkdir(path.dirname(dir), { recursive: true });
  return inProcess.run(path.resolve(dir), () =>
    withBuildLock(dir, log, async () => {
      if (await isCurrent(dir, stamp)) return false; // built by the setup we waited for
      await buildCatalog(dir, stamp, recipes, log);
      return true;
    }),
  );
}

async function isCurrent(dir: string, stamp: string): Promise<boolean> {
  const text = await fs.readFile(path.join(dir, RECIPE_FILE), 'utf8').catch(() => undefined);
  return text === stamp;
}

async function buildCatalog(dir: string, stamp: string, recipes: readonly ImageRecipe[], log: CatalogLog): Promise<void> {
  const started = Date.now();
  log(`building the image catalog at ${dir} (${(await pathExists(dir)) ? 'its recipe changed' : 'first run'})`);
  await removeAbandonedBuilds(dir);
  const scratch = await fs.mkdtemp(path.join(path.dirname(dir), scratchPrefix(dir)));
  await fs.chmod(scratch, 0o755); // apt inside mmdebstrap downloads as the unprivileged _apt user, who must reach it
  try {
    const writer = await LayoutWriter.create(path.join(scratch, 'layout'));
    const build: CatalogBuild = { writer, log, bases: new Map(), packed: new Map(), isBase: new Set(recipes.flatMap((r) => (r.base ? [r.base] : []))) };
    for (const [i, recipe] of recipes.entries()) {
      await buildImage(recipe, build, path.join(scratch, `work-${i}`));
    }
    await writer.writeFile(RECIPE_FILE, stamp);
    await writer.finish();
    // The previous catalog moves into the scratch directory, which is removed below: engines already holding
    // its images keep them (the store hard-links blobs), new imports see the new catalog.
    if (await pathExists(dir)) await fs.rename(dir, path.join(scratch, 'previous'));
    await fs.rename(writer.dir, dir);
    await fsyncDir(path.dirname(dir));
    log(`image catalog ready: ${recipes.flatMap((r) => r.refs).join(', ')} (${seconds(started)})`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** One catalog build's shared state: base images kept for the recipes layered on them, and layers packed once. */
interface CatalogBuild {
  writer: LayoutWriter;
  log: CatalogLog;
  /** Recipes some later recipe builds on; their work directories live until the whole build ends. */
  isBase: ReadonlySet<ImageRecipe>;
  bases: Map<ImageRecipe, BaseImage>;
  /** Layers already written, by directory: a base's layer is packed once and shared byte for byte. */
  packed: Map<string, WrittenLayer>;
}

async function buildImage(recipe: ImageRecipe, build: CatalogBuild, work: string): Promise<void> {
  const { writer, log } = build;
  const started = Date.now();
  const name = recipe.refs[0]!;
  log(`${name}: building`);
  await fs.mkdir(work);
  const spec = await recipe.build(work, (line) => log(`${name}: ${line}`), baseOf(recipe, build));
  const layers: WrittenLayer[] = [];
  for (const layer of spec.layers) {
    let written = build.packed.get(layer.dir);
    if (!written) {
      log(`${name}: packing layer ${layers.length + 1}/${spec.layers.length}`);
      written = await writer.writeLayer(layer.dir);
      build.packed.set(layer.dir, written);
    }
    layers.push(written);
  }
  const config = imageConfig(recipe, spec, layers, new Date().toISOString());
  const { id } = await writer.writeImage(config, layers, recipe.refs, recipe.description, recipe.system === true);
  if (build.isBase.has(recipe)) {
    if (spec.layers.length !== 1) throw catalogError(`${name} is a base image, so it must have exactly one layer`);
    build.bases.set(recipe, { spec, rootfs: spec.layers[0]!.dir });
  } else {
    await fs.rm(work, { recursive: true, force: true });
  }
  const files = layers.reduce((n, l) => n + l.contentSize, 0);
  const blobs = layers.reduce((n, l) => n + l.descriptor.size, 0);
  log(`${name}: image ${shortId(id)}, ${megabytes(files)} of files, ${megabytes(blobs)} compressed (${seconds(started)})`);
}

function baseOf(recipe: ImageRecipe, build: CatalogBuild): BaseImage | undefined {
  if (!recipe.base) return undefined;
  const base = build.bases.get(recipe.base);
  if (!base) throw catalogError(`${recipe.refs[0]!} builds on ${recipe.base.refs[0]!}, which must come earlier in the recipe list`);
  return base;
}

/** Scratch directories are `.<name>.build-XXXXXX` next to the catalog, on its filesystem so rename works. */
function scratchPrefix(dir: string): string {
  return `.${path.basename(dir)}.build-`;
}

/**
 * Remove what killed builds left behind. Only called with the build lock held, so no live build owns them.
 * Recipes run mmdebstrap in a private mount namespace that dies with it; a mount still found under a scratch
 * directory means something else is wrong, and deleting through it could delete host files, so we stop.
 */
async function removeAbandonedBuilds(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = scratchPrefix(dir);
  const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((line) => unescapeMountPath(line.split(' ')[4] ?? ''));
  for (const name of await fs.readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const scratch = path.join(parent, name);
    const mounted = mounts.find((m) => m.startsWith(`${scratch}/`));
    if (mounted) throw catalogError(`an abandoned catalog build still has ${mounted} mounted: unmount it, then run setup again`);
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** mountinfo escapes space, tab, newline and backslash in paths as octal (\040). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
