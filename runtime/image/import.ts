import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { readSafeTar, type SafeEntry } from '../archive/tar-reader.ts';
import { invalid } from '../errors.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import type { Digest } from '../util/digest.ts';
import { tempPathFor } from '../util/fsx.ts';
import { addEntry, addStream, entryBody, type TarHeader } from '../archive/tar-writer.ts';
import { applyChanges } from './changes.ts';
import type { ContainerConfig, ImageConfig } from './config.ts';
import { registerLayerFile } from './layer-import.ts';
import { hostArch } from './load-plan.ts';
import { canonicalString, parseReference, type Reference } from './reference.ts';
import { goContainerConfig } from './go-shapes.ts';

const LABEL = 'imported archive';

export interface ImportOptions {
  /** `repo` as the CLI sends it: the whole reference, possibly with a tag; empty for an untagged image. */
  repo?: string;
  /** A separate tag (the CLI sends it empty). */
  tag?: string;
  /** Dockerfile instructions (`-c`), applied to an empty config. */
  changes: readonly string[];
  /** Commit message; Docker's default is "Imported from -". */
  message?: string;
  /** Written to the config's docker_version. */
  engineVersion: string;
}

/**
 * `docker import -`: make a one-layer image from an uploaded root filesystem tar (plain or gzip). The tar is
 * hostile: it is read with the safe reader and re-packed into a canonical layer (names without `./`, kept in
 * the order given, no whiteouts), so what the store keeps is normalised. Returns the image ID.
 */
export async function importImage(store: Store, ns: Namespace, source: Readable, opts: ImportOptions): Promise<Digest> {
  const ref = importReference(opts.repo ?? '', opts.tag ?? '');
  const runConfig = applyChanges({}, opts.changes);
  const added = { any: false };
  try {
    return await store.gcLock.shared(async () => {
      const file = tempPathFor(path.join(store.tmpDir, 'import.tar'));
      try {
        await repack(source, file, store);
        const layer = await registerLayerFile(store, null, file, { label: LABEL });
        added.any = true;
        const id = await store.putImageConfig(importConfig(layer.diffId, runConfig, opts));
        await nameImage(ns, id, ref);
        return id;
      } finally {
        await fs.rm(file, { force: true });
      }
    });
  } catch (err) {
    // Outside the shared lock: what this import stored is unreferenced, and collection must run exclusively.
    if (added.any) await store.collectGarbage().catch(() => undefined);
    throw err;
  }
}

/** moby: the repository may carry the tag; a separate tag replaces it; no tag means `latest`; no digests. */
function importReference(repo: string, tag: string): Reference | undefined {
  if (repo === '') return undefined;
  const ref = parseReference(repo);
  if (ref.digest) throw invalid('cannot import digest reference');
  if (tag !== '') return { ...ref, tag: parseReference(`x:${tag}`).tag! };
  return { ...ref, tag: ref.tag ?? 'latest' };
}

/** Copy the safe entries of the upload into a canonical layer tar at `file`. */
async function repack(source: Readable, file: string, store: Store): Promise<void> {
  const pack = tarStream.pack();
  // Created before anything can fail, so the caller's cleanup always finds (and removes) it.
  const handle = await fs.open(file, 'wx', 0o600);
  const written = pipeline(pack, handle.createWriteStream());
  written.catch(() => undefined);
  try {
    for await (const entry of readSafeTar(source, { limits: store.limits, label: LABEL })) {
      const header = canonicalHeader(entry);
      if (!header) continue;
      if (entry.kind === 'file') await addStream(pack, { ...header, size: entry.size }, entryBody(entry.body, LABEL));
      else await addEntry(pack, header);
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  }
  await written;
}

const TYPES = { file: 'file', dir: 'directory', symlink: 'symlink', hardlink: 'link', fifo: 'fifo' } as const;

/** The entry as a layer stores it; whiteouts mean nothing in a base layer and are dropped. */
function canonicalHeader(entry: SafeEntry): TarHeader | undefined {
  if (entry.kind === 'whiteout' || entry.kind === 'opaque') return undefined;
  return {
    name: entry.kind === 'dir' ? `${entry.path}/` : entry.path,
    type: TYPES[entry.kind],
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    uname: entry.header.uname ?? '',
    gname: entry.header.gname ?? '',
    mtime: entry.mtime,
    ...(entry.kind === 'symlink' || entry.kind === 'hardlink' ? { linkname: entry.linkTarget } : {}),
  };
}

/** The config dockerd 20.10 writes for an import: message as comment and history, the changes as config. */
function importConfig(diffId: Digest, runConfig: ContainerConfig, opts: ImportOptions): ImageConfig {
  const created = new Date().toISOString();
  const comment = opts.message || 'Imported from -';
  return {
    architecture: hostArch(),
    comment,
    // Round-trip through Go's field order so the stored JSON has every field where Docker puts it.
    config: goContainerConfig(runConfig) as ContainerConfig,
    container_config: goContainerConfig({}) as ContainerConfig,
    created,
    docker_version: opts.engineVersion,
    history: [{ created, comment }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [diffId] },
  } as ImageConfig;
}

async function nameImage(ns: Namespace, id: Digest, ref: Reference | undefined): Promise<void> {
  const now = new Date().toISOString();
  await ns.update((draft) => {
    const entry = (draft.images[id] ??= { added: now });
    if (ref) {
      draft.tags[canonicalString(ref)] = id;
      entry.lastTagTime = now;
    }
  });
}
