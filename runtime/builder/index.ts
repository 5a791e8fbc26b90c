/**
 * The classic (legacy) Dockerfile builder: parse → expand → cache probe → execute → commit, with explained
 * cache decisions and build events. HTTP stays outside: the /build route parses its query into BuildOptions,
 * extracts the context with BuildContext.fromTar and writes renderEvent(...) messages to the response.
 */
import path from 'node:path';
import type { Store } from '../store/store.ts';
import { CacheIndex } from './cache/cache-index.ts';
import { BuildLog } from './events/build-log.ts';

export { BuildError, type LineRange } from './build-error.ts';
export { parseDockerfile } from './parse/dockerfile.ts';
export type { Instruction, ParsedDockerfile, Stage } from './parse/instructions.ts';
export { BuildContext, type ContextOptions } from './context/build-context.ts';
export { IgnoreMatcher, parseDockerignore } from './context/dockerignore.ts';
export type { Executor, RunStep, RunOutcome, RootfsView, CommittedLayer } from './exec/executor.ts';
export { commitDirectory } from './exec/commit-dir.ts';
export { runBuild } from './plan/build.ts';
export type { BuildDeps, BuildOptions, BuildResult } from './plan/options.ts';
export { BuildLog, type BuildRecord, type StepRecord } from './events/build-log.ts';
export type { BuildEvent, CacheDecision, MissReason } from './events/types.ts';
export { renderEvent, encodeMessage, type JsonMessage } from './events/json-stream.ts';
export { CacheIndex } from './cache/cache-index.ts';

/** The builder's per-namespace state (cache index and build log) under the store. */
export async function openBuilderState(store: Store, namespace: string): Promise<{ cache: CacheIndex; log: BuildLog }> {
  const dir = path.join(store.root, 'builder', namespace);
  return { cache: await CacheIndex.open(dir), log: await BuildLog.open(path.join(dir, 'builds')) };
}
