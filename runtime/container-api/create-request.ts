import { primaryNetwork } from '../container-network.ts';
import { checkShape, CONFIG_FIELDS, HOST_CONFIG_FIELDS, strSlice } from './body-shape.ts';
import type { CreateOptions, HostConfig } from '../container/types.ts';
import { EngineError, invalid, notFound } from '../errors.ts';
import type { ContainerConfig } from '../image/config.ts';
import { tryResolveImage } from '../image/lookup.ts';
import { familiarString, parseReference } from '../image/reference.ts';
import type { NetworkManager } from '../network/index.ts';
import { parseSignal } from '../container/signals.ts';
import type { Namespace } from '../store/namespace.ts';

/** The JSON body of `POST /containers/create`: a Config with HostConfig and NetworkingConfig beside it. */
export type CreateBody = ContainerConfig & { HostConfig?: HostConfig | null; NetworkingConfig?: unknown };

/**
 * Turn a create request into the runtime's CreateOptions: the image looked up in the namespace (a 404
 * `No such image: <ref>` makes the CLI pull and retry), the network resolved now so that an unknown or
 * refused network fails create, not start.
 */
export function createOptions(ns: Namespace, network: NetworkManager, name: string | undefined, body: CreateBody | undefined): CreateOptions {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Config cannot be empty in order to create a container');
  checkShape(body as Record<string, unknown>, 'Config', CONFIG_FIELDS);
  const config: ContainerConfig & { HostConfig?: unknown; NetworkingConfig?: unknown } = { ...body, Cmd: strSlice(body.Cmd), Entrypoint: strSlice(body.Entrypoint) };
  const hostConfig = body.HostConfig;
  if (hostConfig !== undefined && hostConfig !== null && (typeof hostConfig !== 'object' || Array.isArray(hostConfig))) throw invalid('json: cannot unmarshal into Go struct field HostConfig');
  if (hostConfig) {
    checkShape(hostConfig, 'HostConfig', HOST_CONFIG_FIELDS);
    if (hostConfig.RestartPolicy) checkShape(hostConfig.RestartPolicy, 'RestartPolicy', { Name: 'string', MaximumRetryCount: 'number' });
    if (hostConfig.LogConfig) checkShape(hostConfig.LogConfig, 'LogConfig', { Type: 'string', Config: 'stringMap' });
  }
  delete config.HostConfig;
  delete config.NetworkingConfig;
  if (typeof config.Image !== 'string' || config.Image === '') throw invalid('No image specified');
  const found = tryResolveImage(ns, config.Image);
  if (!found) throw notFound(`No such image: ${displayRef(config.Image)}`);
  if (config.StopSignal) parseSignal(config.StopSignal);
  const host = hostConfig ?? {};
  checkNetwork(network, host);
  return { ...(name ? { name } : {}), image: found.id, config: config as ContainerConfig, hostConfig: host };
}

/** dockerd names a missing image with its tag (`busybox:latest`). */
function displayRef(input: string): string {
  try {
    const ref = parseReference(input);
    return familiarString(ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' });
  } catch {
    return input;
  }
}

/**
 * An unknown network is reported as a bad request rather than dockerd's 404: a 404 from create makes the CLI
 * try to pull the image, which would hide the real problem behind "Unable to find image".
 */
function checkNetwork(network: NetworkManager, host: HostConfig): void {
  const name = primaryNetwork({ HostConfig: host });
  if (name.startsWith('container:')) return;
  try {
    network.resolveNetwork(name);
  } catch (err) {
    if (err instanceof EngineError && err.code === 'NOT_FOUND') throw invalid(err.message, err);
    throw err;
  }
}
