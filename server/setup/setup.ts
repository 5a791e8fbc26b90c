import { ensureCatalog } from '../../runtime/index.ts';
import type { Config } from '../config.ts';
import { ensureDebianPackages } from './debian.ts';
import { ensureDockerCli } from './docker-cli.ts';
import { ensureWebBuild } from './web-build.ts';

export type Log = (line: string) => void;

/**
 * Bring a fresh Debian bookworm machine to what layerlab needs, idempotently and quickly when all is there:
 * Debian packages, the real docker CLI (client only), the offline image catalog and the built web app.
 */
export async function ensureHost(config: Config, repoDir: string, log: Log): Promise<void> {
  await ensureDebianPackages(log, { testTools: config.testTools });
  await ensureDockerCli(config.toolsDir, log);
  await ensureCatalog(config.catalogDir, (line) => log(`catalog: ${line}`));
  await ensureWebBuild(repoDir, log);
}
