import type { Digest } from '../../util/digest.ts';
import type { LineRange } from '../build-error.ts';

/** Why a step did not come from the cache. */
export type MissReason =
  | { kind: 'no-cache' }
  | { kind: 'parent-miss'; step: number; instruction: string }
  | { kind: 'instruction-changed'; old: string | null; new: string }
  | { kind: 'sources-changed'; added: string[]; removed: string[]; modified: Array<{ path: string; old: string; new: string }> }
  | { kind: 'build-arg-changed'; args: Array<{ name: string; old: string | null; new: string | null }> }
  | { kind: 'base-changed'; old: string | null; new: string }
  | { kind: 'not-cached'; previous: boolean };

/** The cache decision of one step, with the inputs that decided it. */
export interface CacheDecision {
  hit: boolean;
  /** `created_by` text of the probe (what the cache compares, with the config fields in probeKey). */
  probe: string;
  parent: Digest | null;
  reason?: MissReason;
  /** A learner-facing sentence explaining the decision. */
  sentence: string;
}

export interface LayerInfo {
  diffId: Digest;
  digest: Digest;
  size: number;
}

/** Everything a build reports, in order. The classic JSON stream is a function of these (json-stream.ts). */
export type BuildEvent =
  | { type: 'build-start'; buildId: string; total: number; tags: string[]; time: string }
  | { type: 'warning'; text: string; stream: 'stdout' | 'stderr' }
  | { type: 'step-start'; step: number; total: number; text: string; stage: number; range: LineRange; time: string }
  | { type: 'base'; step: number; image: Digest | null }
  | { type: 'triggers'; count: number }
  | { type: 'cache'; step: number; decision: CacheDecision }
  | { type: 'container-created'; step: number; containerId: string }
  | { type: 'output'; step: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'container-removed'; step: number; containerId: string }
  | { type: 'step-end'; step: number; image: Digest | null; layer: LayerInfo | null; emptyLayer: boolean; time: string; durationMs: number }
  | { type: 'stage-end'; stage: number; image: Digest }
  | { type: 'build-end'; image: Digest; tags: string[]; time: string }
  | { type: 'build-error'; message: string; exitCode?: number; range?: LineRange; hint?: string; time: string };
