import { randomBytes } from 'node:crypto';
import { canonicalString, familiarString, parseTaggedReference } from '../../image/reference.ts';
import type { Digest } from '../../util/digest.ts';
import { BuildError, locate } from '../build-error.ts';
import type { BuildRecord } from '../events/build-log.ts';
import type { BuildEvent } from '../events/types.ts';
import { BuildArgs } from '../expand/build-args.ts';
import { envMap, Lexer } from '../expand/lex.ts';
import { parseDockerfile } from '../parse/dockerfile.ts';
import type { Instruction, ParsedDockerfile, Stage } from '../parse/instructions.ts';
import { dispatchInstruction, runTriggers } from './dispatch.ts';
import type { BuildDeps, BuildOptions, BuildResult } from './options.ts';
import { positionKey, type CacheRun } from './run-step.ts';
import { beginStage, type StageState } from './state.ts';
import { resolveImage } from './copy-step.ts';
import type { StepEnv } from './step-env.ts';

/**
 * Run a Dockerfile build like Docker 20.10's classic builder: global ARGs, then every stage up to the target in
 * order; each instruction is a cache-probed step that commits an intermediate image. Emits BuildEvents (kept
 * in the namespace's BuildLog) and returns the final image; on failure emits `build-error` and throws it.
 */
export async function runBuild(deps: BuildDeps, options: BuildOptions): Promise<BuildResult> {
  const buildId = randomBytes(16).toString('hex');
  const tags = options.tags.map((t) => parseTaggedReference(t));
  const subject = tags[0] ? canonicalString(tags[0]) : `dockerfile:${deps.context.dockerfileName}`;
  const record = deps.log.begin(buildId, subject);
  const emit = (event: BuildEvent) => {
    deps.log.emit(record, event);
    options.onEvent?.(event);
  };
  try {
    const parsed = parseDockerfile(deps.context.dockerfileText, deps.context.dockerfileName);
    const stages = selectStages(parsed, options);
    const previous = await deps.log.latest(subject);
    const run: CacheRun = { previous: new Map((previous?.steps ?? []).map((s) => [positionKey(s.stage, s.index), s])), hadPreviousBuild: !!previous, steps: record.steps };
    // `--label` steps are appended to the last stage and counted (Docker 20.10: `Step 4/4 : LABEL k=v`).
    const total = parsed.metaArgs.length + stages.reduce((n, s) => n + 1 + s.commands.length, 0) + Object.keys(options.labels).length;
    emit({ type: 'build-start', buildId, total, tags: tags.map(familiarString), time: now() });
    if (parsed.warnings.length > 0) emit({ type: 'warning', stream: 'stderr', text: `${parsed.warnings.join('\n')}\n` });
    const image = await dispatchAll({ deps, options, buildId, emit, parsed, stages, total, run });
    await tagImage(deps, image, tags.map(canonicalString));
    emit({ type: 'build-end', image, tags: tags.map(familiarString), time: now() });
    await deps.log.finish(record, 'succeeded');
    return { buildId, image, tags: tags.map(familiarString) };
  } catch (err) {
    await fail(deps, record, emit, err);
    throw err;
  }
}

interface Walk {
  deps: BuildDeps;
  options: BuildOptions;
  buildId: string;
  emit: (e: BuildEvent) => void;
  parsed: ParsedDockerfile;
  stages: Stage[];
  total: number;
  run: CacheRun;
}

async function dispatchAll(w: Walk): Promise<Digest> {
  const buildArgs = new BuildArgs(w.options.buildArgs);
  const lexer = new Lexer(w.parsed.escape);
  let step = 0;
  for (const meta of w.parsed.metaArgs) {
    w.emit({ type: 'step-start', step: ++step, total: w.total, text: meta.original, stage: -1, range: meta.range, time: now() });
    const env = envMap([...buildArgs.allowedValues()].map(([k, v]) => `${k}=${v}`));
    const args = meta.args.map((a) => ({ key: lexer.processWord(a.key, env), value: a.value === undefined ? undefined : lexer.processWord(a.value, env) }));
    for (const { key, value } of args) {
      buildArgs.addArg(key, value);
      buildArgs.addMetaArg(key, value);
    }
  }
  const stageImages = { byName: new Map<string, Digest>(), byIndex: [] as Digest[] };
  let last: StageState | undefined;
  for (const [index, stage] of w.stages.entries()) {
    if (stage.name && stageImages.byName.has(stage.name)) throw new BuildError(`${stage.name} stage name already used`, { range: stage.range });
    const env: StepEnv = { deps: w.deps, options: w.options, buildId: w.buildId, step: ++step, emit: w.emit, stageImages };
    w.emit({ type: 'step-start', step, total: w.total, text: stage.original, stage: index, range: stage.range, time: now() });
    const state = await startStage(env, stage, index, buildArgs, w.parsed.escape).catch((err: unknown) => {
      throw locate(err, stage.range);
    });
    w.run.steps.push({ stage: index, index: 0, instruction: stage.original, probe: '', parent: null, buildArgs: {}, base: state.base });
    let position = await runTriggers(env, state, w.run, stage.range);
    w.emit({ type: 'base', step, image: state.image });
    for (const command of withLabels(stage, index === w.stages.length - 1, w.options.labels)) {
      const stepEnv = { ...env, step: ++step };
      w.emit({ type: 'step-start', step, total: w.total, text: command.original, stage: index, range: command.range, time: now() });
      await dispatchInstruction(stepEnv, state, w.run, command, ++position);
    }
    if (state.image) w.emit({ type: 'stage-end', stage: index, image: state.image });
    buildArgs.mergeReferenced(state.buildArgs);
    if (state.image) {
      if (stage.name) stageImages.byName.set(stage.name, state.image);
      stageImages.byIndex.push(state.image);
    }
    last = state;
  }
  const unused = buildArgs.unused();
  if (unused.length > 0) w.emit({ type: 'warning', stream: 'stdout', text: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n` });
  if (!last?.image) throw new BuildError('No image was generated. Is your Dockerfile empty?');
  return last.image;
}

/** FROM: the base name may use global ARGs only; `scratch` is the empty image; earlier stages are found by name. */
async function startStage(env: StepEnv, stage: Stage, index: number, buildArgs: BuildArgs, escape: string): Promise<StageState> {
  const lexer = new Lexer(escape);
  const name = lexer.processWord(stage.base, envMap([...buildArgs.metaValues()].map(([k, v]) => `${k}=${v}`)));
  if (name === '') throw new Error(`base name (${stage.base}) should not be blank`);
  const base = name === 'scratch' ? null : (env.stageImages.byName.get(name.toLowerCase()) ?? (await resolveImage(env, name)));
  const config = base ? await env.deps.store.imageConfig(base) : null;
  return beginStage(index, stage.name, base, config, buildArgs.forStage(), escape);
}

function selectStages(parsed: ParsedDockerfile, options: BuildOptions): Stage[] {
  if (parsed.stages.length === 0) throw new BuildError('No image was generated. Is your Dockerfile empty?');
  if (!options.target) return parsed.stages;
  const at = parsed.stages.findIndex((s) => s.name === options.target.toLowerCase());
  if (at < 0) throw new BuildError(`failed to reach build target ${options.target} in Dockerfile`);
  return parsed.stages.slice(0, at + 1);
}

/** `docker build --label k=v` appends literal LABEL instructions to the last stage (counted as steps). */
function withLabels(stage: Stage, isLast: boolean, labels: Record<string, string>): Instruction[] {
  if (!isLast) return stage.commands;
  const extra: Instruction[] = Object.keys(labels)
    .sort()
    .map((k) => ({ kind: 'LABEL', pairs: [{ key: k, value: labels[k]! }], noExpand: true, original: `LABEL ${k}=${labels[k]}`, range: stage.range }));
  return [...stage.commands, ...extra];
}

async function tagImage(deps: BuildDeps, image: Digest, refs: string[]): Promise<void> {
  if (refs.length === 0) return;
  const time = now();
  await deps.ns.update((draft) => {
    for (const ref of refs) draft.tags[ref] = image;
    const entry = draft.images[image];
    if (entry) entry.lastTagTime = time;
  });
}

async function fail(deps: BuildDeps, record: BuildRecord, emit: (e: BuildEvent) => void, err: unknown): Promise<void> {
  const e = err instanceof BuildError ? err : undefined;
  const message = err instanceof Error ? err.message : String(err);
  emit({ type: 'build-error', message, ...(e?.exitCode !== undefined ? { exitCode: e.exitCode } : {}), ...(e?.range ? { range: e.range } : {}), ...(e?.hint ? { hint: e.hint } : {}), time: now() });
  await deps.log.finish(record, 'failed');
}

function now(): string {
  return new Date().toISOString();
}
