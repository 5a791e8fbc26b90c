import type { Digest } from '../../util/digest.ts';
import { explainHit, explainMiss } from '../cache/explain.ts';
import { probeKey } from '../cache/run-config.ts';
import type { StepRecord } from '../events/build-log.ts';
import type { CacheDecision } from '../events/types.ts';
import { commitStep } from './commit.ts';
import type { StageState } from './state.ts';
import type { PreparedStep, StepEnv } from './step-env.ts';

/** Cache bookkeeping shared by the steps of one build. */
export interface CacheRun {
  /** The first step that missed (every later one misses because of it). */
  firstMiss?: { step: number; instruction: string };
  /** Steps of the previous build of the same subject, by position. */
  previous: Map<string, StepRecord>;
  hadPreviousBuild: boolean;
  steps: StepRecord[];
}

export function positionKey(stage: number, index: number): string {
  return `${stage}:${index}`;
}

/**
 * Decide hit or miss for a prepared step (Docker's probeCache: same parent, same probe), explain it, and on a
 * miss execute and commit it. Records the step's inputs for the next build's explanations.
 */
export async function runStep(env: StepEnv, state: StageState, run: CacheRun, prepared: PreparedStep, where: { index: number; instruction: string }): Promise<void> {
  const started = Date.now();
  const parent = state.image;
  state.runConfig.Image = parent ?? '';
  prepared.probe.Image = parent ?? '';
  const key = probeKey(prepared.probe);
  const record: StepRecord = {
    stage: state.index,
    index: where.index,
    instruction: where.instruction,
    probe: (prepared.probe.Cmd ?? []).join(' '),
    parent,
    buildArgs: argsInScope(state),
    ...(prepared.files ? { files: prepared.files } : {}),
    base: state.base,
  };
  run.steps.push(record);
  const cached = env.options.noCache ? undefined : env.deps.cache.lookup(parent, key);
  const hit = cached !== undefined && env.deps.ns.hasImage(cached) ? cached : undefined;
  const decision: CacheDecision = { hit: hit !== undefined, probe: record.probe, parent, sentence: '' };
  if (hit) {
    decision.sentence = explainHit(where.instruction);
  } else {
    const previous = run.previous.get(positionKey(state.index, where.index));
    const { reason, sentence } = explainMiss({ noCache: env.options.noCache, firstMiss: run.firstMiss, current: record, previous, hadPreviousBuild: run.hadPreviousBuild });
    Object.assign(decision, { reason, sentence });
    run.firstMiss ??= { step: env.step, instruction: where.instruction };
  }
  env.emit({ type: 'cache', step: env.step, decision });
  let layerInfo = null;
  try {
    if (hit) {
      state.image = hit;
      state.imageConfig = await env.deps.store.imageConfig(hit);
    } else {
      const { layer, containerId } = await prepared.execute();
      await env.deps.store.gcLock.shared(async () => {
        const id: Digest = await commitStep(env.deps.store, env.deps.ns, state, { probe: prepared.probe, layer, containerId, dockerVersion: env.options.dockerVersion });
        await env.deps.cache.record(parent, key, id);
      });
      layerInfo = layer ? { diffId: layer.diffId, digest: layer.blob.digest, size: layer.size } : null;
    }
  } finally {
    await prepared.release?.();
  }
  const emptyLayer = hit ? (state.imageConfig?.history?.at(-1)?.empty_layer ?? false) : layerInfo === null;
  env.emit({ type: 'step-end', step: env.step, image: state.image, layer: layerInfo, emptyLayer, time: new Date().toISOString(), durationMs: Date.now() - started });
}

/** The build args a step's result depends on: in scope, not shadowed by ENV, proxy args only when declared. */
function argsInScope(state: StageState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of state.buildArgs.filterAllowed(state.runConfig.Env ?? [])) {
    const eq = kv.indexOf('=');
    const k = kv.slice(0, eq);
    if (state.buildArgs.isReferencedOrNotBuiltin(k)) out[k] = kv.slice(eq + 1);
  }
  return out;
}
