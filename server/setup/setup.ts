import { ensureCatalog } from '../../runtime/index.ts';
import type { Config } from '../config.ts';
import { ensureDebianPackages } from './debian.ts';
import { ensureDockerCli } from './docker-cli.ts';

export type Log = (line: string) => void;

/**
 * Bring a fresh Debian bookworm machine to what layerlab needs, idempotently and quickly when all is there:
 * Debian packages, the real docker CLI (client only), and the offline image catalog.
 */
export async function ensureHost(config: Config, log: Log): Promise<void> {
  await ensureDebianPackages(log, { testTools: config.testTools });
  await ensureDockerCli(config.toolsDir, log);
  await ensureCatalog(config.catalogDir, (line) => log(`catalog: ${line}`));
}
