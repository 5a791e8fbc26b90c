import { invalid } from './errors.ts';
import type { SystemContainer } from './container/system-container.ts';
import type { ContainerRuntime } from './container/runtime.ts';
import { resolveImage } from './image/lookup.ts';
import type { NetworkManager } from './network/index.ts';
import { netnsPath } from './network/netns.ts';
import type { Namespace } from './store/namespace.ts';
import type { Store } from './store/store.ts';

/** The learner's shell: a hidden container of the engine, in the engine's host netns (see Engine.startShell). */
export interface ShellOptions {
  /** A reference or image ID, resolved in `imageNamespace` when given, else in the engine's namespace. */
  image: string;
  imageNamespace?: string;
  cmd: string[];
  /** `KEY=value` entries over the defaults (PATH, HOSTNAME, TERM=xterm). */
  env: string[];
  workingDir: string;
  hostname: string;
  /** Trusted host paths chosen by the server (docker CLI, socket dir, workspace): not subject to allowedBindRoots. */
  binds: Array<{ source: string; destination: string; readOnly: boolean }>;
  cols: number;
  rows: number;
  memoryBytes?: number;
  pidsLimit?: number;
}

/** The running shell: its terminal and its life. */
export type ShellProcess = SystemContainer;

/** A port published on the engine's host netns, for the port preview. */
export interface EnginePublishedPort {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  containerName: string;
}

export async function startShell(parts: { store: Store; ns: Namespace; containers: ContainerRuntime; hostNetns: string | undefined }, opts: ShellOptions): Promise<ShellProcess> {
  // Without a netns of its own the shell would share the machine's network: only sandboxes get one.
  if (parts.hostNetns === undefined) throw invalid('a shell needs a sandbox engine (one with a host network namespace)');
  const ns = opts.imageNamespace !== undefined ? await parts.store.namespace(opts.imageNamespace) : parts.ns;
  const image = resolveImage(ns, opts.image).id;
  for (const b of opts.binds) if (!b.source.startsWith('/') || !b.destination.startsWith('/')) throw invalid(`shell bind paths must be absolute: ${b.source}:${b.destination}`);
  return parts.containers.startSystem({
    image,
    cmd: opts.cmd,
    env: opts.env,
    workingDir: opts.workingDir,
    hostname: opts.hostname,
    binds: opts.binds.map((b) => ({ ...b })),
    netnsPath: netnsPath(parts.hostNetns),
    cols: opts.cols,
    rows: opts.rows,
    ...(opts.memoryBytes !== undefined ? { memoryBytes: opts.memoryBytes } : {}),
    ...(opts.pidsLimit !== undefined ? { pidsLimit: opts.pidsLimit } : {}),
  });
}

/** Ports published now by running containers, from the network manager's state, named after their containers. */
export function publishedPorts(network: NetworkManager, containers: ContainerRuntime): EnginePublishedPort[] {
  const running = new Map(containers.list().filter((c) => c.state.Running).map((c) => [c.record.Id, c.record.Name.slice(1)]));
  return network.publishedPorts().flatMap(({ id, port }) => {
    const name = running.get(id);
    return name === undefined ? [] : [{ hostPort: port.hostPort, containerPort: port.containerPort, protocol: port.proto, containerName: name }];
  });
}
