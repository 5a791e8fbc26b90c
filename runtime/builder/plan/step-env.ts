import { randomBytes } from 'node:crypto';
import type { LayerRecord } from '../../store/layer-store.ts';
import type { Digest } from '../../util/digest.ts';
import type { ContainerConfig } from '../../image/config.ts';
import type { BuildEvent } from '../events/types.ts';
import type { BuildDeps, BuildOptions } from './options.ts';

/** What one step's preparation and execution can reach. */
export interface StepEnv {
  deps: BuildDeps;
  options: BuildOptions;
  buildId: string;
  step: number;
  emit(event: BuildEvent): void;
  /** Images of finished stages, for COPY --from: by lower-cased name and by index. */
  stageImages: { byName: Map<string, Digest>; byIndex: Digest[] };
}

/** A step ready for the cache decision: its probe, and what to do on a miss. */
export interface PreparedStep {
  probe: ContainerConfig;
  /** COPY/ADD: per-file source hashes, for explanations. */
  files?: Record<string, string>;
  execute(): Promise<{ layer: LayerRecord | null; containerId: string }>;
  /** Release what preparation opened (views of other images). */
  release?(): Promise<void>;
}

/** A container ID for steps Docker runs as a created-but-never-started container (metadata, WORKDIR). */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}
