import { execFileSync, spawnSync } from 'node:child_process';
import type { Log } from './setup.ts';

/** Debian packages layerlab runs on, and the command each provides (checked before calling apt). */
const PACKAGES: ReadonlyArray<[pkg: string, command: string]> = [
  ['runc', '/usr/sbin/runc'],
  ['busybox-static', '/bin/busybox'],
  ['mmdebstrap', '/usr/bin/mmdebstrap'],
  ['iproute2', '/usr/sbin/ip'],
  ['iptables', '/usr/sbin/iptables'],
  ['attr', '/usr/bin/setfattr'],
  ['uidmap', '/usr/bin/newuidmap'],
];

export async function ensureDebianPackages(log: Log): Promise<void> {
  const missing = PACKAGES.filter(([pkg]) => !isInstalled(pkg)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

export function isInstalled(pkg: string): boolean {
  const out = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.includes('install ok installed');
}
