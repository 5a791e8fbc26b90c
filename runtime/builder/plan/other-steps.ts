import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from '../build-error.ts';
import { copyRunConfig, nopCmd, nopCmdString } from '../cache/run-config.ts';
import { resolveInRoot } from '../context/scoped-path.ts';
import type { CommittedLayer } from '../exec/executor.ts';
import { UpperDir } from '../exec/upper-dir.ts';
import type { Instruction } from '../parse/instructions.ts';
import { applyMetadata, resolveCmdLine, type MetadataInstruction } from './metadata.ts';
import { expandWord, type StageState } from './state.ts';
import { newContainerId, type PreparedStep, type StepEnv } from './step-env.ts';
import { topLayer } from './copy-step.ts';

const BUILDKIT = 'requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

/** A metadata step: the config changes now; a miss commits an empty layer from a created container. */
export function prepareMetadata(i: MetadataInstruction, state: StageState, env: StepEnv): PreparedStep {
  const comment = applyMetadata(i, state);
  const probe = copyRunConfig(state.runConfig);
  probe.Cmd = nopCmd(state.runConfig, comment);
  return { probe, execute: () => withContainer(env, async () => null) };
}

/** WORKDIR: resolve against the previous one; a miss creates the directory (owned by root) if it is missing. */
export async function prepareWorkdir(i: Extract<Instruction, { kind: 'WORKDIR' }>, state: StageState, env: StepEnv): Promise<PreparedStep> {
  const requested = expandWord(state, i.path);
  if (requested === '') throw new Error('cannot normalize nothing');
  const rc = state.runConfig;
  rc.WorkingDir = requested.startsWith('/') ? requested : path.posix.join('/', rc.WorkingDir ?? '', requested);
  const probe = copyRunConfig(rc);
  probe.Cmd = nopCmdString(rc, `WORKDIR ${rc.WorkingDir}`);
  const parent = state.image;
  const workdir = rc.WorkingDir;
  return {
    probe,
    execute: () =>
      withContainer(env, async () => {
        const view = await env.deps.executor.view(parent);
        const upper = await mkdtemp(path.join(env.deps.scratchDir, 'workdir-'));
        try {
          await new UpperDir(upper, view.root).ensureDir(await resolveInRoot(view.root, workdir), { uid: 0, gid: 0 });
          return await env.deps.executor.commit(upper, await topLayer(env, parent), { overlayUpper: false });
        } finally {
          await rm(upper, { recursive: true, force: true });
          await view.release();
        }
      }),
  };
}

/**
 * RUN: the probe's Cmd carries the `|N K=V` prefix of the build args in scope (proxy args only when
 * declared); the container runs the plain argv with those args as extra environment (moby dispatchRun).
 */
export async function prepareRun(i: Extract<Instruction, { kind: 'RUN' }>, state: StageState, env: StepEnv): Promise<PreparedStep> {
  if (i.flagsUsed.length > 0) throw new Error(`the --${i.flagsUsed[0]} option ${BUILDKIT}`);
  const rc = state.runConfig;
  const cmd = resolveCmdLine(i.command.args, i.command.prependShell, rc);
  const buildArgs = state.buildArgs.filterAllowed(rc.Env ?? []);
  const saveCmd = buildArgs.length > 0 ? prependArgs(state, buildArgs, cmd) : cmd;
  const probe = copyRunConfig(rc);
  probe.Cmd = saveCmd;
  if (saveCmd.length > 0) probe.Entrypoint = null;
  const config = copyRunConfig(rc);
  Object.assign(config, { Cmd: cmd, Env: [...(rc.Env ?? []), ...buildArgs], Entrypoint: null, Healthcheck: { Test: ['NONE'] } });
  const parent = state.image;
  const parentTop = await topLayer(env, parent);
  return {
    probe,
    execute: async () => {
      const outcome = await env.deps.executor.run({
        buildId: env.buildId,
        parentImage: parent,
        config,
        onCreated: (containerId) => env.emit({ type: 'container-created', step: env.step, containerId }),
        onOutput: (stream, chunk) => env.emit({ type: 'output', step: env.step, stream, text: chunk.toString('utf8') }),
        signal: env.options.signal ?? new AbortController().signal,
      });
      if (outcome.exitCode !== 0) {
        await outcome.finish({ remove: env.options.forceRm });
        const message = `The command '${cmd.join(' ')}' returned a non-zero code: ${outcome.exitCode}`;
        throw new BuildError(message, { exitCode: outcome.exitCode });
      }
      const layer = await env.deps.executor.commit(outcome.upperDir, parentTop, { overlayUpper: true });
      await outcome.finish({ remove: env.options.rm });
      if (env.options.rm) env.emit({ type: 'container-removed', step: env.step, containerId: outcome.containerId });
      return { layer, containerId: outcome.containerId };
    },
  };
}

/** moby prependEnvOnCmd: `|N` then the sorted args that count (note `|0` when only proxy args were given). */
function prependArgs(state: StageState, buildArgs: string[], cmd: string[]): string[] {
  const kept = buildArgs.filter((kv) => state.buildArgs.isReferencedOrNotBuiltin(kv.split('=', 1)[0]!)).sort();
  return [`|${kept.length}`, ...kept, ...cmd];
}

/** Docker creates (but never starts) a container for metadata and WORKDIR steps and removes it after the commit. */
async function withContainer(env: StepEnv, work: () => Promise<CommittedLayer>) {
  const containerId = newContainerId();
  env.emit({ type: 'container-created', step: env.step, containerId });
  const layer = await work();
  if (env.options.rm) env.emit({ type: 'container-removed', step: env.step, containerId });
  return { layer, containerId };
}
