import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { resolveImage as lookupImage } from '../../image/lookup.ts';
import type { Digest } from '../../util/digest.ts';
import { copyRunConfig, nopCmdString } from '../cache/run-config.ts';
import { combinedHash, lazyHash, resolveSources, type CopySource, type SourceTree } from '../context/sources.ts';
import { resolveChown } from '../exec/chown.ts';
import { performCopy } from '../exec/copy-op.ts';
import type { RootfsView } from '../exec/executor.ts';
import type { Instruction } from '../parse/instructions.ts';
import { expandWord, type StageState } from './state.ts';
import type { PreparedStep, StepEnv } from './step-env.ts';

type CopyInstruction = Extract<Instruction, { kind: 'COPY' | 'ADD' }>;

const BUILDKIT = 'requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

/** COPY/ADD: resolve and hash the sources (the probe embeds the hash), copy on a miss (moby dispatchCopy/performCopy). */
export async function prepareCopy(i: CopyInstruction, state: StageState, env: StepEnv): Promise<PreparedStep> {
  if (i.chmod !== '') throw new Error(`the --chmod option ${BUILDKIT}`);
  const x = (w: string) => expandWord(state, w);
  const names = i.sources.map(x);
  const dest = x(i.dest);
  const chown = x(i.chown);
  const fromView = i.from !== '' ? await openFrom(i.from, state, env) : undefined;
  try {
    const sources = await resolveAll(i, names, dest, fromView, env);
    const chownComment = chown !== '' ? `--chown=${chown}` : '';
    const probe = copyRunConfig(state.runConfig);
    probe.Cmd = nopCmdString(state.runConfig, `${i.kind} ${chownComment}${combinedHash(sources)} in ${dest} `);
    const parentImage = state.image;
    const parentTop = await topLayer(env, parentImage);
    const absDest = normalizeDest(state.runConfig.WorkingDir ?? '', dest);
    return {
      probe,
      files: filesOf(sources),
      execute: async () => {
        const view = await env.deps.executor.view(parentImage);
        const upper = await mkdtemp(path.join(env.deps.scratchDir, 'copy-'));
        try {
          const owner = chown !== '' ? await resolveChown(chown, view.root) : fromView ? null : { uid: 0, gid: 0 };
          if (!fromView) await env.deps.context.materialise();
          await performCopy(upper, view.root, {
            sourceRoot: fromView?.root ?? env.deps.context.root,
            sources,
            dest: absDest,
            owner,
            extractArchives: i.kind === 'ADD',
            limits: env.deps.store.limits,
            scratchDir: env.deps.scratchDir,
          });
          return { layer: await env.deps.executor.commit(upper, parentTop, { overlayUpper: false }), containerId: '' };
        } finally {
          await rm(upper, { recursive: true, force: true });
          await view.release();
        }
      },
      release: async () => fromView?.release(),
    };
  } catch (err) {
    await fromView?.release();
    throw err;
  }
}

async function resolveAll(i: CopyInstruction, names: string[], dest: string, fromView: RootfsView | undefined, env: StepEnv): Promise<CopySource[]> {
  for (const name of names) {
    if (/^https?:\/\//i.test(name)) {
      if (i.kind === 'COPY') throw new Error(`${i.kind} failed: source can't be a URL for COPY`);
      throw new Error(`ADD failed: layerlab does not fetch URLs in builds yet (${name}); download the file into the build context and COPY it`);
    }
  }
  const tree: SourceTree = fromView
    ? { root: fromView.root, hash: (rel) => lazyHash(fromView.root, rel) }
    : { root: env.deps.context.root, hash: async (rel) => env.deps.context.hashOf(rel) };
  let sources: CopySource[];
  try {
    sources = await resolveSources(tree, names, !fromView);
  } catch (err) {
    throw new Error(`${i.kind} failed: ${(err as Error).message}`, { cause: err });
  }
  if (sources.length > 1 && !dest.endsWith('/')) throw new Error(`When using ${i.kind} with more than one source file, the destination must be a directory and end with a /`);
  return sources;
}

/** `--from=<stage name | stage index | image>` (moby stagesBuildResults.get, getImageMount). */
async function openFrom(from: string, state: StageState, env: StepEnv): Promise<RootfsView> {
  const { byName, byIndex } = env.stageImages;
  let image = byName.get(from.toLowerCase());
  try {
    if (!image && /^[+-]?\d+$/.test(from)) {
      const ix = Number(from);
      if (ix === state.index) throw new Error('refers to current build stage');
      if (ix < 0 || ix > byIndex.length) throw new Error('index out of bounds');
      image = byIndex[ix];
    }
    image ??= await resolveImage(env, from);
  } catch (err) {
    throw new Error(`invalid from flag value ${from}: ${(err as Error).message}`, { cause: err });
  }
  return env.deps.executor.view(image);
}

export async function resolveImage(env: StepEnv, name: string): Promise<Digest> {
  if (env.deps.resolveImage) return env.deps.resolveImage(name);
  return lookupImage(env.deps.ns, name).id;
}

export async function topLayer(env: StepEnv, image: Digest | null): Promise<Digest | null> {
  return image ? ((await env.deps.store.topLayer(image)) ?? null) : null;
}

/** moby normalizeDest: relative destinations are joined to WORKDIR, keeping a trailing slash. */
export function normalizeDest(workingDir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = path.posix.join('/', workingDir, dest);
  return dest.endsWith('/') ? `${joined}/` : joined;
}

function filesOf(sources: CopySource[]): Record<string, string> {
  if (sources.length === 1 && sources[0]!.isDir) return sources[0]!.files;
  const out: Record<string, string> = {};
  for (const s of sources) {
    if (!s.isDir) out[s.named] = Object.values(s.files)[0]!;
    else for (const [k, v] of Object.entries(s.files)) out[`${s.named}/${k}`] = v;
  }
  return out;
}
