import type { ContainerConfig, HistoryEntry, ImageConfig } from '../../image/config.ts';
import type { LayerRecord } from '../../store/layer-store.ts';
import type { Namespace } from '../../store/namespace.ts';
import type { Store } from '../../store/store.ts';
import type { Digest } from '../../util/digest.ts';
import { normalizeRunConfig } from '../cache/run-config.ts';
import type { StageState } from './state.ts';

export interface CommitRequest {
  /** container_config: the probe config whose Cmd is the history `created_by`. */
  probe: ContainerConfig;
  layer: LayerRecord | null;
  /** The step's container ('' for COPY/ADD, which use none). */
  containerId: string;
  dockerVersion: string;
}

/**
 * Commit one step as Docker's NewChildImage does: the parent's history plus one entry (empty_layer when the
 * step changed no files), the parent's diff IDs plus the new layer, the run config as `config` and the
 * probe as `container_config`. The image joins the namespace untagged with a parent link, as the classic
 * builder's intermediate images do. Call under store.gcLock.shared.
 */
export async function commitStep(store: Store, ns: Namespace, state: StageState, req: CommitRequest): Promise<Digest> {
  const parent = state.imageConfig;
  const created = new Date().toISOString();
  const entry: HistoryEntry = { created, ...(state.maintainer ? { author: state.maintainer } : {}), created_by: (req.probe.Cmd ?? []).join(' ') };
  if (!req.layer) entry.empty_layer = true;
  const config: ImageConfig = {
    architecture: parent?.architecture ?? 'amd64',
    ...(state.maintainer ? { author: state.maintainer } : {}),
    config: normalizeRunConfig(state.runConfig),
    ...(req.containerId ? { container: req.containerId } : {}),
    container_config: normalizeRunConfig(req.probe),
    created,
    docker_version: req.dockerVersion,
    history: [...(parent?.history ?? []), entry],
    os: parent?.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(req.layer ? [req.layer.diffId] : [])] },
    ...(parent?.variant ? { variant: parent.variant } : {}),
  };
  const id = await store.putImageConfig(config);
  await ns.update((draft) => {
    draft.images[id] ??= { added: created, ...(state.image ? { parent: state.image } : {}) };
  });
  state.image = id;
  state.imageConfig = config;
  return id;
}
