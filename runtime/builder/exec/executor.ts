import type { ContainerConfig } from '../../image/config.ts';
import type { LayerRecord } from '../../store/layer-store.ts';
import type { Digest } from '../../util/digest.ts';

/** A read-only view of an image's merged root filesystem. */
export interface RootfsView {
  /** Directory holding the merged tree; never written to. */
  root: string;
  release(): Promise<void>;
}

/** One RUN step for the container runtime. */
export interface RunStep {
  /** Build this step belongs to (for naming, limits and cleanup). */
  buildId: string;
  /** Image the container's rootfs is a snapshot of; null for `FROM scratch`. */
  parentImage: Digest | null;
  /**
   * The container config as the classic builder creates it: Cmd is the argv to run (shell already
   * prepended, no build-arg prefix), Env includes the build args in scope, Entrypoint is null, Healthcheck
   * is NONE, WorkingDir/User/Volumes/Labels come from the build state.
   */
  config: ContainerConfig;
  /** Called once the container exists, before it starts (prints ` ---> Running in <id12>`). */
  onCreated(containerId: string): void;
  /** Output as it arrives; stderr is shown in red by the stream writer. */
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** Aborted when the client goes away or the build is cancelled. */
  signal: AbortSignal;
}

export interface RunOutcome {
  containerId: string;
  exitCode: number;
  /** The container's overlay upper dir after it exited (whiteouts as 0/0 char devices, opaque xattrs). */
  upperDir: string;
  /** Remove the container (`--rm`, after a successful commit) or keep it (a failed step, `--rm=false`). */
  finish(opts: { remove: boolean }): Promise<void>;
}

/** A committed layer diff, or null when the directory held no changes (Docker's empty layer). */
export type CommittedLayer = LayerRecord | null;

/**
 * What the builder needs from the container runtime. Everything else (parsing, cache, COPY/ADD/WORKDIR file
 * operations, image configs, history, events, output) is the builder's own.
 */
export interface Executor {
  /** A read-only merged view of an image (null: an empty tree, for scratch). Used by COPY/ADD/WORKDIR and COPY --from. */
  view(image: Digest | null): Promise<RootfsView>;
  /** Run one RUN step in a container over a snapshot of the parent image. */
  run(step: RunStep): Promise<RunOutcome>;
  /**
   * Turn a directory diff into a layer on top of `parent` (a chain ID, or null for a base layer). With
   * `overlayUpper`, 0/0 character devices and opaque xattrs become OCI whiteouts. Returns null when the
   * directory is empty (the step gets `empty_layer: true`). Without `overlayUpper` the directory is the
   * builder's own scratch and may become the layer's extracted directory: it may be gone afterwards.
   */
  commit(dir: string, parent: Digest | null, opts: { overlayUpper: boolean }): Promise<CommittedLayer>;
}
