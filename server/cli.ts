import http from 'node:http';
import { Engine, Store, serveEngineApi, startHub } from '../runtime/index.ts';
import { buildConfig, ConfigError, type Config } from './config.ts';
import { ensureHost } from './setup/setup.ts';
import { lockStateDir } from './state-lock.ts';
import { startPage } from './start-page.ts';
import { VERSION } from './version.ts';

const log = (line: string) => process.stderr.write(`layerlab: ${line}\n`);

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
  if (!config.skipSetup || config.command === 'setup') await ensureHost(config, log);
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
  const servers: Array<http.Server> = [api];

  if (config.command === 'start') {
    const web = http.createServer((req, res) => startPage(req, res, engine, config));
    await new Promise<void>((resolve, reject) => {
      web.once('error', reject);
      web.listen(config.port, config.host, () => resolve());
    });
    servers.push(web);
    log(`listening on http://${config.host}:${config.port}`);
  }

  const stop = async () => {
    for (const s of servers) s.close();
    await hub.close();
    await engine.close();
    await unlock();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
