import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from '../runtime/index.ts';

/** Everything configurable, built once at start (flag > environment > default) and passed down. */
export interface Config {
  /** The subcommand: `start` (web app + engine socket), `engine` (engine socket only), `setup`. */
  command: 'start' | 'engine' | 'setup';
  port: number;
  host: string;
  stateDir: string;
  /** Offline base-image catalog (OCI image layout), built by setup. */
  catalogDir: string;
  /** Host tools setup provides (the docker CLI extracted from Debian's docker.io). */
  toolsDir: string;
  /** Unix socket of the standalone engine. */
  engineSocket: string;
  /** Namespace the standalone engine uses. */
  namespace: string;
  /** Size of the filesystem holding the standalone engine's container writable layers. */
  diskQuotaBytes: number;
  /** Host directories `-v /host:/ctr` may bind from (none by default). */
  allowedBindRoots: readonly string[];
  /** Skip host setup (packages, CLI, catalog): for tests that run many engines on a prepared machine. */
  skipSetup: boolean;
  /** Setup also installs the real peers the test suite uses (dockerd, a distribution registry, skopeo, gcc). */
  testTools: boolean;
  /** Caps on every archive the engine reads from a learner (load, import, layers). */
  archiveLimits: ArchiveLimits;
  /** Loopback port of the embedded registry hub (0: any free port, printed at start). */
  hubPort: number;
  /** Whether a new username registers itself on its first `docker login` to the hub. */
  hubSelfRegister: boolean;
}

const USAGE = `usage: layerlab [start|engine|setup] [--port N] [--host ADDR] [--state-dir DIR] [--catalog-dir DIR] [--socket PATH] [--tools-dir DIR] [--max-archive-entries N] [--max-archive-bytes N]
  [--disk-quota BYTES] [--allow-bind DIR]... [--skip-setup] [--hub-port N] [--hub-no-self-register]`;

export function buildConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Readonly<Config> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'state-dir': { type: 'string' },
      'catalog-dir': { type: 'string' },
      socket: { type: 'string' },
      'tools-dir': { type: 'string' },
      namespace: { type: 'string' },
      'max-archive-entries': { type: 'string' },
      'max-archive-bytes': { type: 'string' },
      'disk-quota': { type: 'string' },
      'allow-bind': { type: 'string', multiple: true },
      'skip-setup': { type: 'boolean' },
      'test-tools': { type: 'boolean' },
      'hub-port': { type: 'string' },
      'hub-no-self-register': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new ConfigError(USAGE);
  const command = positionals[0] ?? 'start';
  if (command !== 'start' && command !== 'engine' && command !== 'setup') throw new ConfigError(`unknown command ${command}\n${USAGE}`);
  const stateDir = path.resolve(values['state-dir'] ?? env.LAYERLAB_STATE_DIR ?? '/var/lib/layerlab');
  const portText = values.port ?? env.LAYERLAB_PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${portText}`);
  return Object.freeze({
    command,
    port,
    host: values.host ?? env.LAYERLAB_HOST ?? '127.0.0.1',
    stateDir,
    catalogDir: path.resolve(values['catalog-dir'] ?? env.LAYERLAB_CATALOG_DIR ?? path.join(stateDir, 'catalog')),
    toolsDir: path.resolve(values['tools-dir'] ?? env.LAYERLAB_TOOLS_DIR ?? path.join(stateDir, 'tools')),
    engineSocket: path.resolve(values.socket ?? env.LAYERLAB_SOCKET ?? path.join(stateDir, 'engine.sock')),
    namespace: values.namespace ?? 'default',
    archiveLimits: Object.freeze({
      maxEntries: positiveInt('max-archive-entries', values['max-archive-entries'] ?? env.LAYERLAB_MAX_ARCHIVE_ENTRIES, DEFAULT_ARCHIVE_LIMITS.maxEntries),
      maxBytes: positiveInt('max-archive-bytes', values['max-archive-bytes'] ?? env.LAYERLAB_MAX_ARCHIVE_BYTES, DEFAULT_ARCHIVE_LIMITS.maxBytes),
    }),
    diskQuotaBytes: byteSize('disk-quota', values['disk-quota'] ?? env.LAYERLAB_DISK_QUOTA, 4 * 1024 ** 3),
    allowedBindRoots: (values['allow-bind'] ?? []).map((d) => path.resolve(d)),
    skipSetup: values['skip-setup'] ?? false,
    testTools: values['test-tools'] ?? false,
    hubPort: portNumber('hub-port', values['hub-port'] ?? env.LAYERLAB_HUB_PORT ?? '0'),
    hubSelfRegister: !(values['hub-no-self-register'] ?? env.LAYERLAB_HUB_SELF_REGISTER === '0'),
  });
}

/** `512m`, `4g`, `1048576`: binary units, as docker's `--memory` takes them. */
function byteSize(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw new ConfigError(`invalid --${name}: ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function portNumber(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`invalid --${name}: ${text}`);
  return n;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`invalid --${name}: ${text}`);
  return n;
}

export class ConfigError extends Error {}
