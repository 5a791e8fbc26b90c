import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, Store, serveEngineApi, startHub } from '../runtime/index.ts';
import { buildConfig, ConfigError, type Config } from './config.ts';
import { createWebServer } from './http/web-server.ts';
import { loadLessons } from './lessons/index.ts';
import { SandboxManager } from './sandbox/manager.ts';
import { sandboxSettings } from './sandbox/settings.ts';
import { ensureHost } from './setup/setup.ts';
import { lockStateDir } from './state-lock.ts';
import { VERSION } from './version.ts';

const log = (line: string) => process.stderr.write(`layerlab: ${line}\n`);
const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = buildConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (!config.skipSetup || config.command === 'setup') await ensureHost(config, REPO_DIR, log);
  if (config.command === 'setup') return;

  const unlock = await lockStateDir(config.stateDir);
  const store = await Store.open(config.stateDir, config.archiveLimits);
  const engine = await Engine.open(store, {
    namespace: config.namespace,
    catalogDir: config.catalogDir,
    version: VERSION,
    stateDir: config.stateDir,
    allowedBindRoots: [...config.allowedBindRoots],
    limits: { diskQuotaBytes: config.diskQuotaBytes },
  });
  const hub = await startHub(store, engine.catalog, { port: config.hubPort, selfRegister: config.hubSelfRegister, stateDir: config.stateDir });
  log(`registry hub listening on http://${hub.address}`);
  const api = await serveEngineApi(engine, config.engineSocket);
  log(`engine listening on unix://${config.engineSocket}`);
  const closers: Array<() => Promise<void> | void> = [() => void api.close()];

  if (config.command === 'start') {
    const manager = await SandboxManager.open(store, await sandboxSettings(config, engine, store), log);
    const lessons = await loadLessons(path.join(REPO_DIR, 'lessons'));
    // Filled once the port is known (--port 0 picks a free one).
    const allowedOrigins = new Set(config.allowedOrigins);
    const web = createWebServer({
      manager,
      lessons,
      staticDir: path.join(REPO_DIR, 'web/dist'),
      allowedOrigins,
      secureCookies: config.secureCookies,
      log,
    });
    await new Promise<void>((resolve, reject) => {
      web.server.once('error', reject);
      web.server.listen(config.port, config.host, () => resolve());
    });
    closers.unshift(() => web.close(), () => manager.close());
    const address = web.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    for (const origin of listenOrigins(config.host, port)) allowedOrigins.add(origin);
    log(`listening on http://${config.host}:${port}`);
    if (!config.lazyLayers) {
      void engine.catalog.extractLayers(store).then(
        () => log('catalog layers extracted'),
        (err: Error) => log(`extracting catalog layers: ${err.message} (they will be extracted on first use)`),
      );
    }
  }

  const stop = async () => {
    for (const close of closers) await close();
    await hub.close();
    await engine.close();
    await unlock();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** The origins a browser shows for the listen address (localhost and 127.0.0.1 are the same machine). */
function listenOrigins(host: string, port: number): string[] {
  const hosts = new Set([host]);
  if (host === '127.0.0.1' || host === 'localhost' || host === '0.0.0.0') hosts.add('localhost').add('127.0.0.1');
  return [...hosts].map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
