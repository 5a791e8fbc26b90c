import path from 'node:path';
import { SHELL_IMAGE, type Engine, type Store } from '../../runtime/index.ts';
import type { Config } from '../config.ts';
import { dockerCliPath, dockerCompletionPath } from '../setup/docker-cli.ts';
import { VERSION } from '../version.ts';
import type { SandboxSettings } from './manager.ts';

/** The namespace the catalog's shell image is kept in, so it is in no learner's `docker images`. */
const SYSTEM_NAMESPACE = 'system';

/** Sandbox settings from the config; imports the shell image into the system namespace once. */
export async function sandboxSettings(config: Config, engine: Engine, store: Store): Promise<SandboxSettings> {
  const s = config.sandboxes;
  await engine.catalog.importSystemImage(store, await store.namespace(SYSTEM_NAMESPACE), SHELL_IMAGE);
  return {
    rootDir: path.join(config.stateDir, 'sandboxes'),
    catalogDir: config.catalogDir,
    version: VERSION,
    maxSandboxes: s.max,
    maxPerClient: s.perClient,
    idleTimeoutMs: s.idleTimeoutMs,
    idleWarningMs: s.idleWarningMs,
    lifetimeMs: s.lifetimeMs,
    limits: {
      diskQuotaBytes: s.diskBytes,
      diskPreallocate: false,
      defaultMemory: s.memoryBytes,
      maxMemory: s.memoryBytes,
      defaultPids: s.pids,
      maxPids: s.pids,
      defaultNanoCpus: s.cpus * 1e9,
      maxContainers: s.containers,
      // The sandbox's totals, on the engine's cgroup parent: one container may use all of them, all together no more.
      sharedMemory: s.memoryBytes,
      sharedPids: s.pids,
      sharedNanoCpus: s.cpus * 1e9,
    },
    shell: {
      image: SHELL_IMAGE,
      imageNamespace: SYSTEM_NAMESPACE,
      dockerCli: dockerCliPath(config.toolsDir),
      dockerCompletion: dockerCompletionPath(config.toolsDir),
      memoryBytes: 256 * 1024 ** 2,
      pidsLimit: 256,
    },
  };
}
