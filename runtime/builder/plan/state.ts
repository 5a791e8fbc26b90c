import type { ContainerConfig, ImageConfig } from '../../image/config.ts';
import { DEFAULT_PATH_ENV } from '../../image/config.ts';
import type { Digest } from '../../util/digest.ts';
import type { BuildArgs } from '../expand/build-args.ts';
import { envMap, Lexer } from '../expand/lex.ts';
import { copyRunConfig } from '../cache/run-config.ts';

/** The dispatch state of one stage (moby's dispatchState). */
export interface StageState {
  index: number;
  name: string;
  /** The stage's base image (null for scratch). */
  base: Digest | null;
  /** Current image: null before the first commit of a `FROM scratch` stage. */
  image: Digest | null;
  /** Its config (null for scratch). */
  imageConfig: ImageConfig | null;
  runConfig: ContainerConfig;
  maintainer: string;
  /** A CMD was set in this stage, so ENTRYPOINT keeps it. */
  cmdSet: boolean;
  buildArgs: BuildArgs;
  lexer: Lexer;
}

/** Begin a stage on a base image: its config is copied, PATH defaulted, stdin flags cleared. */
export function beginStage(index: number, name: string, base: Digest | null, baseConfig: ImageConfig | null, buildArgs: BuildArgs, escape: string): StageState {
  const runConfig = copyRunConfig(baseConfig?.config ?? {});
  if (!(runConfig.Env ?? []).some((e) => e.startsWith('PATH='))) runConfig.Env = [...(runConfig.Env ?? []), DEFAULT_PATH_ENV];
  runConfig.OpenStdin = false;
  runConfig.StdinOnce = false;
  return { index, name, base, image: base, imageConfig: baseConfig, runConfig, maintainer: '', cmdSet: false, buildArgs, lexer: new Lexer(escape) };
}

/** Variables visible to an instruction: the config's ENV plus the build args in scope that ENV does not shadow. */
export function expansionEnv(state: StageState): Map<string, string> {
  const env = state.runConfig.Env ?? [];
  return envMap([...env, ...state.buildArgs.filterAllowed(env)]);
}

/** Expand one word with the stage's variables (Docker's ProcessWord). */
export function expandWord(state: StageState, word: string): string {
  return state.lexer.processWord(word, expansionEnv(state));
}
