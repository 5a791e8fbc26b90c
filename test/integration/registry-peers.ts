import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/engine.ts';

/** A free loopback TCP port (bound and released; good enough for a test that binds it right away). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RealRegistry {
  /** `127.0.0.1:<port>`. */
  address: string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (distribution 2.8.2) as a real process on a random loopback port, deletes
 * enabled, storage in a temp dir; with `basicAuth`, an htpasswd (bcrypt) file guards it. Undefined when the
 * package (or, for basic auth, apache2-utils' htpasswd) is not installed.
 */
export async function startRealRegistry(opts: { basicAuth?: { user: string; password: string } } = {}): Promise<RealRegistry | undefined> {
  const binary = '/usr/bin/docker-registry';
  if (!existsSync(binary)) return undefined;
  if (opts.basicAuth && !existsSync('/usr/bin/htpasswd')) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-distribution-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  let auth = '';
  if (opts.basicAuth) {
    const line = spawnSync('/usr/bin/htpasswd', ['-Bbn', opts.basicAuth.user, opts.basicAuth.password]).stdout.toString().trim();
    writeFileSync(path.join(dir, 'htpasswd'), `${line}\n`);
    auth = `auth:\n  htpasswd:\n    realm: layerlab-test\n    path: ${dir}/htpasswd\n`;
  }
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  let up = false;
  const probe = () => void fetch(`http://${address}/v2/`).then((r) => (up = r.status === 200 || r.status === 401), () => undefined);
  try {
    await waitFor(() => {
      probe();
      return up || child.exitCode !== null;
    }, 20_000);
  } catch {
    await stop();
    return undefined;
  }
  if (child.exitCode !== null) {
    await stop();
    return undefined;
  }
  return { address, stop };
}
