import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import type { Log } from './setup.ts';

/** Debian packages layerlab runs on (socat: connections into a sandbox's netns, see runtime/network/dial.ts). */
const PACKAGES = ['runc', 'busybox-static', 'mmdebstrap', 'iproute2', 'iptables', 'attr', 'uidmap', 'socat'];

/**
 * Real peers the test suite compares with or talks to (`npm test` asks for them): a real dockerd, Debian's
 * distribution registry, skopeo, htpasswd for registry Basic auth, gcc for the seccomp probe, and Debian's
 * chromium for the browser tests (driven by playwright-core: no browser download).
 */
const TEST_PACKAGES = ['docker.io', 'docker-registry', 'skopeo', 'apache2-utils', 'gcc', 'libc6-dev', 'chromium'];

const POLICY_RC = '/usr/sbin/policy-rc.d';

export async function ensureDebianPackages(log: Log, opts: { testTools?: boolean } = {}): Promise<void> {
  const wanted = opts.testTools ? [...PACKAGES, ...TEST_PACKAGES] : PACKAGES;
  const missing = wanted.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  // Packages such as docker.io and docker-registry start their daemons on install; layerlab starts its own,
  // privately, only when it needs them. policy-rc.d is Debian's switch for "do not start services now".
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC, { force: true });
  }
}

export function isInstalled(pkg: string): boolean {
  const out = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.includes('install ok installed');
}
