import { promises as fs } from 'node:fs';
import path from 'node:path';
import { shortId } from '../util/digest.ts';
import { syncPath, pathExists } from '../util/fsx.ts';
import { KeyedMutex } from '../util/locks.ts';
import { withBuildLock } from './build-lock.ts';
import { busyboxRecipe } from './busybox.ts';
import { debianRecipe, debianSlimRecipe } from './debian.ts';
import { helloWorldRecipe } from './hello-world.ts';
import { buildDockerfileImages, reapBuilderEngine } from './dockerfile-build.ts';
import { DOCKERFILE_IMAGES, dockerfileVersion, type DockerfileImage } from './dockerfile-images.ts';
import { LayoutWriter, type WrittenLayer } from './oci-writer.ts';
import { catalogError, imageConfig, type CatalogLog, type ImageRecipe } from './recipe.ts';

/** What setup builds: the recipes' images first (quick ones first), then the Dockerfiles' on top of them. */
export interface CatalogPlan {
  recipes: readonly ImageRecipe[];
  dockerfiles: readonly DockerfileImage[];
}

export const CATALOG_PLAN: CatalogPlan = { recipes: [busyboxRecipe, helloWorldRecipe, debianSlimRecipe, debianRecipe], dockerfiles: DOCKERFILE_IMAGES };

/** Written into the layout last: a catalog with a different stamp was made by another recipe and is rebuilt. */
export const RECIPE_FILE = 'layerlab-recipe.json';
/** Bumped when the layout format itself (not one image's recipe) changes. */
/** 2: layer sizes count symlinks, as Docker's do. */
const LAYOUT_FORMAT = 2;
/** The Dockerfile builds' store and engine, inside the scratch directory. */
const BUILDER_DIR = 'builder';
/** The lock file keeps other processes out; this keeps concurrent calls in one process in line. */
const inProcess = new KeyedMutex();

/** The stamp a catalog built by `plan` carries. */
export function recipeStamp(plan: CatalogPlan): string {
  const images = [...plan.recipes.map((r) => r.version), ...plan.dockerfiles.map(dockerfileVersion)];
  return `${JSON.stringify({ format: LAYOUT_FORMAT, images })}\n`;
}

/**
 * Make sure `dir` holds the catalog the recipes describe. When it does, this reads one small file and returns
 * false. Otherwise it builds the whole layout in a scratch directory next to `dir` and renames it into place
 * only when complete, so a build killed at any point leaves the previous catalog (or none), never half of one.
 */
export async function ensureCatalog(dir: string, log: CatalogLog, plan: CatalogPlan = CATALOG_PLAN): Promise<boolean> {
  const stamp = recipeStamp(plan);
  if (await isCurrent(dir, stamp)) return false;
  await fs.mkdir(path.dirname(dir), { recursive: true });
  return inProcess.run(path.resolve(dir), () =>
    withBuildLock(dir, log, async () => {
      if (await isCurrent(dir, stamp)) return false; // built by the setup we waited for
      await buildCatalog(dir, stamp, plan, log);
      return true;
    }),
  );
}

async function isCurrent(dir: string, stamp: string): Promise<boolean> {
  const text = await fs.readFile(path.join(dir, RECIPE_FILE), 'utf8').catch(() => undefined);
  return text === stamp;
}

async function buildCatalog(dir: string, stamp: string, plan: CatalogPlan, log: CatalogLog): Promise<void> {
  const { recipes, dockerfiles } = plan;
  const started = Date.now();
  log(`building the image catalog at ${dir} (${(await pathExists(dir)) ? 'its recipe changed' : 'first run'})`);
  await removeAbandonedBuilds(dir, log);
  const scratch = await fs.mkdtemp(path.join(path.dirname(dir), scratchPrefix(dir)));
  await fs.chmod(scratch, 0o755); // apt inside mmdebstrap downloads as the unprivileged _apt user, who must reach it
  try {
    const writer = await LayoutWriter.create(path.join(scratch, 'layout'));
    for (const [i, recipe] of recipes.entries()) {
      await buildImage(recipe, writer, log, path.join(scratch, `work-${i}`));
    }
    if (dockerfiles.length > 0) await buildDockerfileImages(writer, dockerfiles, path.join(scratch, BUILDER_DIR), log);
    await writer.writeFile(RECIPE_FILE, stamp);
    await writer.finish();
    // The previous catalog moves into the scratch directory, which is removed below: engines already holding
    // its images keep them (the store hard-links blobs), new imports see the new catalog.
    if (await pathExists(dir)) await fs.rename(dir, path.join(scratch, 'previous'));
    await fs.rename(writer.dir, dir);
    await syncPath(path.dirname(dir));
    log(`image catalog ready: ${[...recipes, ...dockerfiles].flatMap((r) => r.refs).join(', ')} (${seconds(started)})`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function buildImage(recipe: ImageRecipe, writer: LayoutWriter, log: CatalogLog, work: string): Promise<void> {
  const started = Date.now();
  const name = recipe.refs[0]!;
  log(`${name}: building`);
  await fs.mkdir(work);
  const spec = await recipe.build(work, (line) => log(`${name}: ${line}`));
  const layers: WrittenLayer[] = [];
  for (const layer of spec.layers) {
    log(`${name}: packing layer ${layers.length + 1}/${spec.layers.length}`);
    layers.push(await writer.writeLayer(layer.dir));
  }
  const config = imageConfig(recipe, spec, layers, new Date().toISOString());
  const { id } = await writer.writeImage(config, layers, recipe.refs, recipe.description, recipe.system === true);
  await fs.rm(work, { recursive: true, force: true });
  const files = layers.reduce((n, l) => n + l.contentSize, 0);
  const blobs = layers.reduce((n, l) => n + l.descriptor.size, 0);
  log(`${name}: image ${shortId(id)}, ${megabytes(files)} of files, ${megabytes(blobs)} compressed (${seconds(started)})`);
}

/** Scratch directories are `.<name>.build-XXXXXX` next to the catalog, on its filesystem so rename works. */
function scratchPrefix(dir: string): string {
  return `.${path.basename(dir)}.build-`;
}

/**
 * Remove what killed builds left behind. Only called with the build lock held, so no live build owns them.
 * A killed Dockerfile build's engine is reopened and destroyed first, which kills its containers and removes
 * their mounts, cgroups and network rules. Recipes run mmdebstrap in a private mount namespace that dies with
 * it; a mount still found under a scratch directory after that means something else is wrong, and deleting
 * through it could delete host files, so we stop.
 */
async function removeAbandonedBuilds(dir: string, log: CatalogLog): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = scratchPrefix(dir);
  for (const name of await fs.readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const scratch = path.join(parent, name);
    await reapBuilderEngine(path.join(scratch, BUILDER_DIR), log);
    const mounts = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((line) => unescapeMountPath(line.split(' ')[4] ?? ''));
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
