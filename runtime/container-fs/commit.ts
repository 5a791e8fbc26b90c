import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packDirectory } from '../archive/pack-dir.ts';
import type { ContainerRuntime } from '../container/runtime.ts';
import { invalid } from '../errors.ts';
import { applyChanges } from '../image/changes.ts';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../image/config.ts';
import { registerLayerFile } from '../image/layer-import.ts';
import { canonicalString, parseReference, type Reference } from '../image/reference.ts';
import { goContainerConfig } from '../image/go-shapes.ts';
import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import { chainIds, type Digest } from '../util/digest.ts';
import { tempPathFor } from '../util/fsx.ts';

/** The diff ID of an empty tar: dockerd records such a commit as an empty layer. */
const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** `-c` Dockerfile instructions applied to the container's config. */
  changes: readonly string[];
  /** A config from the request body, merged over the container's (the CLI sends none). */
  config?: ContainerConfig;
  engineVersion: string;
}

export interface CommitDeps {
  runtime: ContainerRuntime;
  store: Store;
  ns: Namespace;
}

/**
 * `docker commit`: the container's upper dir becomes a layer (OCI whiteouts for deletions) on top of its
 * image, with the container's config plus `-c` changes and a history entry like dockerd's. A running
 * container is always frozen while its upper dir is read: `--pause=false` is not honoured, because a
 * container changing the tree mid-read could swap a directory for a link to the host.
 */
export async function commitContainer(deps: CommitDeps, idOrName: string, opts: CommitOptions): Promise<Digest> {
  const ref = commitReference(opts.repo ?? '', opts.tag ?? '');
  const { record, state } = deps.runtime.inspect(idOrName);
  const config = applyChanges({ ...record.Config, ...opts.config }, opts.changes);
  const base = await deps.store.imageConfig(record.Image);
  const freeze = state.Running && !state.Paused;
  if (freeze) await deps.runtime.pause(record.Id);
  try {
    return await deps.store.gcLock.shared(async () => {
      const file = tempPathFor(path.join(deps.store.tmpDir, 'commit.tar'));
      try {
        await pipeline(packDirectory(deps.runtime.pathsOf(record.Id).upperDir, { overlayUpper: true }), (await fs.open(file, 'wx', 0o600)).createWriteStream());
        const parent = chainIds(base.rootfs.diff_ids).at(-1) ?? null;
        const layer = await registerLayerFile(deps.store, parent, file, { label: 'container changes' });
        const empty = layer.diffId === EMPTY_TAR_DIFF_ID;
        const id = await deps.store.putImageConfig(imageConfig(base, config, record, opts, empty ? undefined : layer.diffId));
        await nameImage(deps.ns, id, record.Image, ref);
        return id;
      } finally {
        await fs.rm(file, { force: true });
      }
    });
  } finally {
    if (freeze) await deps.runtime.unpause(record.Id).catch(() => undefined);
  }
}

function imageConfig(base: ImageConfig, config: ContainerConfig, record: { Id: string; Path: string; Args: string[]; Config: ContainerConfig }, opts: CommitOptions, diffId: Digest | undefined): ImageConfig {
  const created = new Date().toISOString();
  const entry: HistoryEntry = {
    created,
    ...(opts.author ? { author: opts.author } : {}),
    created_by: [record.Path, ...record.Args].join(' '),
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(diffId ? {} : { empty_layer: true }),
  };
  const out: Record<string, unknown> = {
    ...base,
    author: opts.author || undefined,
    // dockerd's V1Image field: `docker inspect` shows it as Comment.
    comment: opts.comment ?? '',
    config: goContainerConfig(config) as ContainerConfig,
    container: record.Id,
    container_config: goContainerConfig(record.Config) as ContainerConfig,
    created,
    docker_version: opts.engineVersion,
    history: [...(base.history ?? []), entry],
    rootfs: { type: 'layers', diff_ids: diffId ? [...base.rootfs.diff_ids, diffId] : [...base.rootfs.diff_ids] },
  };
  return out as unknown as ImageConfig;
}

/** dockerd: `repo` may carry the tag, `tag` (when given) sets it, no tag means `latest`; no repo, no name. */
function commitReference(repo: string, tag: string): Reference | undefined {
  if (repo === '') {
    if (tag !== '') throw invalid('tag requires a repository');
    return undefined;
  }
  const ref = parseReference(repo);
  if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
  if (tag !== '') return { ...ref, tag: parseReference(`x:${tag}`).tag! };
  return { ...ref, tag: ref.tag ?? 'latest' };
}

async function nameImage(ns: Namespace, id: Digest, parent: Digest, ref: Reference | undefined): Promise<void> {
  const now = new Date().toISOString();
  await ns.update((draft) => {
    const entry = (draft.images[id] ??= { added: now, parent });
    if (ref) {
      draft.tags[canonicalString(ref)] = id;
      entry.lastTagTime = now;
    }
  });
}
