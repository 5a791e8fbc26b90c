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
  /** Learners' sandboxes (the `start` command). */
  sandboxes: SandboxConfig;
  /** Origins (scheme://host:port) whose pages may use the API and WebSockets, besides the listen address. */
  allowedOrigins: readonly string[];
  /** Mark the session cookie Secure (when served over https by a proxy in front). */
  secureCookies: boolean;
  /** Extract catalog layers on first use only, not in the background from `start` (tests' throwaway servers). */
  lazyLayers: boolean;
}

export interface SandboxConfig {
  max: number;
  /** Live sandboxes one client address may hold. */
  perClient: number;
  idleTimeoutMs: number;
  /** How long before the idle timeout the learner is warned. */
  idleWarningMs: number;
  lifetimeMs: number;
  /** Size of each sandbox's writable-layer filesystem (sparse: taken from the host as it fills). */
  diskBytes: number;
  /** Memory of everything a sandbox runs together (its shell, containers, build steps). */
  memoryBytes: number;
  /** Processes of everything a sandbox runs together. */
  pids: number;
  /** CPUs a sandbox may use in all. */
  cpus: number;
  containers: number;
}

const USAGE = `usage: layerlab [start|engine|setup] [--port N] [--host ADDR] [--state-dir DIR] [--catalog-dir DIR] [--socket PATH] [--tools-dir DIR] [--max-archive-entries N] [--max-archive-bytes N]
  [--disk-quota BYTES] [--allow-bind DIR]... [--skip-setup] [--hub-port N] [--hub-no-self-register]
  [--max-sandboxes N] [--sandboxes-per-client N] [--sandbox-idle-timeout DURATION] [--sandbox-lifetime DURATION] [--sandbox-disk BYTES] [--sandbox-memory BYTES]
  [--sandbox-pids N] [--sandbox-cpus N] [--sandbox-containers N] [--origin URL]... [--secure-cookies] [--lazy-layers]`;

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
      'max-sandboxes': { type: 'string' },
      'sandboxes-per-client': { type: 'string' },
      'sandbox-idle-timeout': { type: 'string' },
      'sandbox-lifetime': { type: 'string' },
      'sandbox-disk': { type: 'string' },
      'sandbox-memory': { type: 'string' },
      'sandbox-pids': { type: 'string' },
      'sandbox-cpus': { type: 'string' },
      'sandbox-containers': { type: 'string' },
      origin: { type: 'string', multiple: true },
      'secure-cookies': { type: 'boolean' },
      'lazy-layers': { type: 'boolean' },
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
    sandboxes: Object.freeze(sandboxConfig(values, env)),
    allowedOrigins: Object.freeze((values.origin ?? env.LAYERLAB_ORIGINS?.split(',') ?? []).map(origin)),
    secureCookies: values['secure-cookies'] ?? env.LAYERLAB_SECURE_COOKIES === '1',
    lazyLayers: values['lazy-layers'] ?? env.LAYERLAB_LAZY_LAYERS === '1',
  });
}

function sandboxConfig(values: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv): SandboxConfig {
  const text = (flag: string, envName: string) => (values[flag] as string | undefined) ?? env[envName];
  const idleTimeoutMs = duration('sandbox-idle-timeout', text('sandbox-idle-timeout', 'LAYERLAB_SANDBOX_IDLE_TIMEOUT'), 30 * 60_000);
  return {
    max: positiveInt('max-sandboxes', text('max-sandboxes', 'LAYERLAB_MAX_SANDBOXES'), 100),
    perClient: positiveInt('sandboxes-per-client', text('sandboxes-per-client', 'LAYERLAB_SANDBOXES_PER_CLIENT'), 5),
    idleTimeoutMs,
    idleWarningMs: Math.min(2 * 60_000, Math.floor(idleTimeoutMs / 4)),
    lifetimeMs: duration('sandbox-lifetime', text('sandbox-lifetime', 'LAYERLAB_SANDBOX_LIFETIME'), 4 * 3600_000),
    diskBytes: byteSize('sandbox-disk', text('sandbox-disk', 'LAYERLAB_SANDBOX_DISK'), 1024 ** 3),
    memoryBytes: byteSize('sandbox-memory', text('sandbox-memory', 'LAYERLAB_SANDBOX_MEMORY'), 1024 ** 3),
    pids: positiveInt('sandbox-pids', text('sandbox-pids', 'LAYERLAB_SANDBOX_PIDS'), 1024),
    cpus: positiveInt('sandbox-cpus', text('sandbox-cpus', 'LAYERLAB_SANDBOX_CPUS'), 1),
    containers: positiveInt('sandbox-containers', text('sandbox-containers', 'LAYERLAB_SANDBOX_CONTAINERS'), 20),
  };
}

/** `90s`, `30m`, `4h`, or plain seconds. */
function duration(name: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  const m = /^(\d+)([smh]?)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new ConfigError(`invalid --${name}: ${text} (examples: 90s, 30m, 4h)`);
  return Number(m[1]) * { '': 1000, s: 1000, m: 60_000, h: 3600_000 }[m[2] as '' | 's' | 'm' | 'h'];
}

function origin(text: string): string {
  try {
    const url = new URL(text.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.origin;
  } catch {
    throw new ConfigError(`invalid --origin: ${text} (example: https://learn.example.com)`);
  }
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
