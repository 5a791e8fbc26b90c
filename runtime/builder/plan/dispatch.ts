import { BuildError, locate, type LineRange } from '../build-error.ts';
import type { Instruction } from '../parse/instructions.ts';
import { parseLine } from '../parse/dockerfile.ts';
import { prepareCopy } from './copy-step.ts';
import { isMetadata } from './metadata.ts';
import { prepareMetadata, prepareRun, prepareWorkdir } from './other-steps.ts';
import { runStep, type CacheRun } from './run-step.ts';
import type { StageState } from './state.ts';
import type { PreparedStep, StepEnv } from './step-env.ts';

/** Prepare and run one instruction as a step; any error is located at the instruction's lines. */
export async function dispatchInstruction(env: StepEnv, state: StageState, run: CacheRun, i: Instruction, index: number): Promise<void> {
  if (env.options.signal?.aborted) throw new BuildError('Build cancelled');
  try {
    const prepared = await prepare(env, state, i);
    await runStep(env, state, run, prepared, { index, instruction: i.original });
  } catch (err) {
    throw locate(err, i.range);
  }
}

function prepare(env: StepEnv, state: StageState, i: Instruction): Promise<PreparedStep> | PreparedStep {
  switch (i.kind) {
    case 'COPY':
    case 'ADD':
      return prepareCopy(i, state, env);
    case 'RUN':
      return prepareRun(i, state, env);
    case 'WORKDIR':
      return prepareWorkdir(i, state, env);
    default:
      if (!isMetadata(i)) throw new Error('unsupported command type');
      return prepareMetadata(i, state, env);
  }
}

/**
 * ONBUILD triggers of the base image run right after FROM, without step numbers, then are cleared so the
 * new image does not pass them on (moby dispatchTriggeredOnBuild). Returns the last step position used.
 */
export async function runTriggers(env: StepEnv, state: StageState, run: CacheRun, range: LineRange): Promise<number> {
  const triggers = state.runConfig.OnBuild ?? [];
  if (triggers.length === 0) return 0;
  state.runConfig.OnBuild = null;
  env.emit({ type: 'triggers', count: triggers.length });
  let position = 0;
  for (const trigger of triggers) {
    if (trigger.includes('\n')) throw new BuildError('onbuild trigger should be a single expression', { range });
    const parsed = parseLine({ text: trigger, startLine: range.start, endLine: range.end }, state.lexer.escapeChar);
    if (parsed.kind === 'FROM') throw new BuildError("FROM isn't allowed as an ONBUILD trigger", { range });
    await dispatchInstruction(env, state, run, { ...parsed, range }, ++position);
  }
  return position;
}
