import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../errors.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import { chainIds, shortId, type Digest } from '../util/digest.ts';
import { tempPathFor } from '../util/fsx.ts';
import { registerLayerFile } from './layer-import.ts';
import { ReceivedArchive } from './load-archive.ts';
import { fromOciIndex } from './load-oci.ts';
import { fromDockerManifest, type ImagePlan } from './load-plan.ts';
import { canonicalString, familiarString } from './reference.ts';

/** What `docker load` shows while it works: layer progress, then the `Loaded image…` lines. */
export type LoadEvent = { kind: 'layer'; id: string; current: number; total: number } | { kind: 'line'; text: string };

/**
 * `docker load`: take an archive (docker save layout of any Docker version, or an OCI image layout; tar or
 * gzip), verify every config and layer, register new layers and name the images in one namespace update.
 *
 * All or nothing: the upload lives in scratch files that are always deleted; until the final namespace
 * update nothing is named, and if anything fails, content this load added is collected (it is unreferenced)
 * before the error is reported. Holds the GC lock shared throughout, so nothing is collected under it.
 */
export async function loadImages(store: Store, ns: Namespace, source: Readable, onEvent: (e: LoadEvent) => void): Promise<void> {
  const added = { any: false };
  try {
    await store.gcLock.shared(() => loadLocked(store, ns, source, onEvent, added));
  } catch (err) {
    // Outside the shared lock: collection must wait for every other content-adding operation to finish.
    if (added.any) await store.collectGarbage().catch(() => undefined);
    throw err;
  }
}

async function loadLocked(store: Store, ns: Namespace, source: Readable, onEvent: (e: LoadEvent) => void, added: { any: boolean }): Promise<void> {
  const scratch = tempPathFor(path.join(store.tmpDir, 'load'));
  await fs.mkdir(scratch, { mode: 0o700 });
  try {
    const archive = await ReceivedArchive.receive(source, scratch, store.limits);
    const plans = archive.has('manifest.json') ? await fromDockerManifest(archive) : archive.has('index.json') ? await fromOciIndex(archive) : noManifest();
    for (const plan of plans) await registerLayers(store, plan, onEvent, added);
    for (const plan of plans) {
      const existed = await store.blobs.has(plan.id);
      await store.putImageConfig(plan.config);
      if (!existed) added.any = true;
    }
    const lines = await nameImages(ns, plans);
    for (const text of lines) onEvent({ kind: 'line', text });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

function noManifest(): never {
  throw invalid('invalid image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout)');
}

/** Register the layers an image needs that the store lacks, checking each against its diff_id. */
async function registerLayers(store: Store, plan: ImagePlan, onEvent: (e: LoadEvent) => void, added: { any: boolean }): Promise<void> {
  const diffIds = plan.parsed.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  for (const [i, layer] of plan.layers.entries()) {
    if (store.layers.get(chains[i]!)) continue; // moby skips layers it already has, without reading them
    const label = `layer ${i + 1} of image ${shortId(plan.id)} (${layer.name})`;
    await registerLayerFile(store, i === 0 ? null : chains[i - 1]!, layer.data.file, { expectedDiffId: diffIds[i]!, label });
    added.any = true;
    onEvent({ kind: 'layer', id: shortId(diffIds[i]!), current: layer.data.size, total: layer.data.size });
  }
}

/**
 * Name every image in one namespace update and return the lines moby prints: per image, a rename notice for
 * each tag taken from another image and `Loaded image: x:tag`; and when the last image has no tags,
 * `Loaded image ID: …` for every image (moby resets its tag count per image, hence "last").
 */
async function nameImages(ns: Namespace, plans: ImagePlan[]): Promise<string[]> {
  const now = new Date().toISOString();
  const loaded = new Set(plans.map((p) => p.id));
  return ns.update((draft) => {
    const lines: string[] = [];
    for (const plan of plans) {
      const entry = (draft.images[plan.id] ??= { added: now });
      if (plan.parent && loaded.has(plan.parent) && isParent(plans, plan.parent, plan)) entry.parent = plan.parent;
      for (const ref of plan.tags) {
        const key = canonicalString(ref);
        const previous = draft.tags[key];
        if (previous && previous !== plan.id) {
          lines.push(`The image ${familiarString(ref)} already exists, renaming the old one with ID ${previous} to empty string`);
        }
        draft.tags[key] = plan.id;
        entry.lastTagTime = now;
        lines.push(`Loaded image: ${familiarString(ref)}`);
      }
    }
    if (plans[plans.length - 1]!.tags.length === 0) for (const plan of plans) lines.push(`Loaded image ID: ${plan.id}`);
    return lines;
  });
}

/** moby only keeps a declared parent whose layers are a prefix of the child's. */
function isParent(plans: ImagePlan[], parentId: Digest, child: ImagePlan): boolean {
  const parent = plans.find((p) => p.id === parentId)!;
  const a = parent.parsed.rootfs.diff_ids;
  const b = child.parsed.rootfs.diff_ids;
  return a.length < b.length && a.every((d, i) => d === b[i]);
}
