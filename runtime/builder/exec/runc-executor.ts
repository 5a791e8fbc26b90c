import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { isMountPoint, mountsUnder, unmount } from '../../container/mountinfo.ts';
import type { ContainerRuntime } from '../../container/runtime.ts';
import { run } from '../../util/exec.ts';
import type { HostConfig } from '../../container/types.ts';
import { EngineError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { Digest } from '../../util/digest.ts';
import { commitDirectory } from './commit-dir.ts';
import type { Executor, RootfsView, RunOutcome, RunStep } from './executor.ts';

export interface RuncExecutorOptions {
  store: Store;
  containers: ContainerRuntime;
  /**
   * Where read-only views are mounted: outside the store's temp dir, which the store empties at start-up and
   * could not while a view left by a crash is still mounted there (see clearViews).
   */
  viewDir: string;
  /**
   * The build's HostConfig for RUN containers: resource limits from the request and NetworkMode (`none`
   * unless the build asked for a network). The runtime's policy checks it like any other create.
   */
  hostConfig: HostConfig;
  /** `--force-rm`: a container whose command could not start is removed too (otherwise it stays, `Created`). */
  forceRm: boolean;
}

/** moby's errCancelled text: what a build reports when its client went away. */
export const BUILD_CANCELLED = 'Build cancelled';

/**
 * The builder's Executor over the engine's container runtime: RUN steps are ordinary containers (they show in
 * `docker ps -a` while they exist, as the classic builder's do), views are read-only overlay mounts of an
 * image's layers, commits pack a directory into a layer.
 */
export function runcExecutor(opts: RuncExecutorOptions): Executor {
  return {
    view: (image) => mountView(opts, image),
    run: (step) => runStep(opts, step),
    commit: (dir, parent, o) => commitDirectory(opts.store, dir, parent, o),
  };
}

async function runStep(opts: RuncExecutorOptions, step: RunStep): Promise<RunOutcome> {
  if (step.signal.aborted) throw new Error(BUILD_CANCELLED);
  // RUN on `FROM scratch` has nothing to run: dockerd's text when runc finds no shell (without its image-less container).
  if (!step.parentImage) throw new EngineError('INVALID', `failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${step.config.Cmd?.[0] ?? ''}": stat ${step.config.Cmd?.[0] ?? ''}: no such file or directory: unknown`);
  const rt = opts.containers;
  // Entrypoint [""] is moby's override for RUN: the image's ENTRYPOINT must not wrap the command.
  const { Id: id } = await rt.create({ image: step.parentImage, config: { ...step.config, Entrypoint: [''] }, hostConfig: { ...opts.hostConfig } });
  const finish = async ({ remove }: { remove: boolean }) => {
    if (remove) await rt.remove(id, { force: true });
  };
  step.onCreated(id);
  const cancel = () => void rt.remove(id, { force: true }).catch(() => undefined);
  try {
    const attached = rt.attach(id, { stdout: sink((c) => step.onOutput('stdout', c)), stderr: sink((c) => step.onOutput('stderr', c)) });
    step.signal.addEventListener('abort', cancel, { once: true });
    if (step.signal.aborted) throw new Error(BUILD_CANCELLED);
    // Waiting starts before the start: a quick command may exit before start() returns.
    const exited = rt.wait(id, 'next-exit');
    await rt.start(id);
    const { StatusCode } = await exited;
    await attached.done;
    if (step.signal.aborted) throw new Error(BUILD_CANCELLED);
    return { containerId: id, exitCode: StatusCode, upperDir: rt.pathsOf(id).upperDir, finish };
  } catch (err) {
    // A cancelled step leaves no container; one whose command could not start stays for inspection, as in Docker.
    if (step.signal.aborted || opts.forceRm) await rt.remove(id, { force: true }).catch(() => undefined);
    if (step.signal.aborted) throw new Error(BUILD_CANCELLED, { cause: err });
    throw err;
  } finally {
    step.signal.removeEventListener('abort', cancel);
  }
}

function sink(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      onChunk(chunk);
      done();
    },
  });
}

/**
 * A read-only overlay of the image's layers on a fresh mount point. An empty directory is always the lowest
 * layer, because overlayfs without an upper dir needs two lowers; `FROM scratch` is that empty tree alone.
 */
async function mountView(opts: RuncExecutorOptions, image: Digest | null): Promise<RootfsView> {
  const dir = await fs.mkdtemp(path.join(opts.viewDir, 'view-'));
  const empty = path.join(dir, 'empty');
  const root = path.join(dir, 'root');
  await fs.mkdir(empty, { mode: 0o755 });
  await fs.mkdir(root, { mode: 0o755 });
  const release = async () => {
    await unmount(root);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const lowers = await opts.store.gcLock.shared(async () => {
      const top = image ? await opts.store.topLayer(image) : undefined;
      return top ? opts.store.layers.lowerDirs(top) : [];
    });
    if (lowers.length === 0) return { root: empty, release };
    await mountReadOnly([...lowers, empty], root);
    return { root, release };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}

/** Unmount and remove every view under `viewDir` (left by an engine that stopped mid-build), then recreate it. */
export async function clearViews(viewDir: string): Promise<void> {
  for (const mount of await mountsUnder(viewDir)) await unmount(mount);
  await fs.rm(viewDir, { recursive: true, force: true });
  await fs.mkdir(viewDir, { recursive: true, mode: 0o700 });
}

/** Layer dirs go relative to their common parent (mount runs there) to keep the options within one page. */
async function mountReadOnly(lowers: string[], target: string): Promise<void> {
  if (await isMountPoint(target)) return;
  const base = path.dirname(path.dirname(lowers[0]!));
  const rel = lowers.map((d) => (path.dirname(path.dirname(d)) === base ? path.relative(base, d) : d));
  const options = `ro,lowerdir=${rel.join(':')}`;
  if (options.length > 4000) throw new EngineError('INTERNAL', `image has too many layers to mount (${lowers.length})`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd: base, timeoutMs: 30_000 });
}
