import type { ShellOptions } from '../../runtime/index.ts';

/** What every sandbox's shell is made of; the same for all sandboxes. */
export interface ShellSettings {
  /** The catalog's shell image and the namespace it is kept in (not the learner's: it is not in `docker images`). */
  image: string;
  imageNamespace: string;
  /** The docker CLI and its bash completion, mounted read-only into the shell. */
  dockerCli: string;
  dockerCompletion: string;
  memoryBytes: number;
  pidsLimit: number;
}

/** Where the sandbox's engine socket appears inside the shell (the directory is mounted read-only). */
const SOCKET_DIR = '/run/layerlab';

/**
 * The learner's shell container: the catalog's shell image, in the sandbox's own network namespace, with
 * the real docker CLI, `DOCKER_HOST` on the sandbox's engine socket and the workspace as working directory.
 * Every host path here is chosen by the server; none comes from the learner.
 */
export function shellOptions(
  settings: ShellSettings,
  where: { runDir: string; workspaceDir: string; workspacePath: string; cols: number; rows: number },
): ShellOptions {
  return {
    image: settings.image,
    imageNamespace: settings.imageNamespace,
    cmd: ['bash', '-l'],
    env: [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'TERM=xterm-256color',
      'LANG=C.UTF-8',
      'HOME=/root',
      `DOCKER_HOST=unix://${SOCKET_DIR}/docker.sock`,
    ],
    workingDir: where.workspacePath,
    hostname: 'sandbox',
    binds: [
      { source: settings.dockerCli, destination: '/usr/local/bin/docker', readOnly: true },
      { source: settings.dockerCompletion, destination: '/usr/share/bash-completion/completions/docker', readOnly: true },
      { source: where.runDir, destination: SOCKET_DIR, readOnly: true },
      { source: where.workspaceDir, destination: where.workspacePath, readOnly: false },
    ],
    cols: where.cols,
    rows: where.rows,
    memoryBytes: settings.memoryBytes,
    pidsLimit: settings.pidsLimit,
  };
}
