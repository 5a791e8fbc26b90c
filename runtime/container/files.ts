import { promises as fs } from 'node:fs';
import { LOCAL_HOSTS } from '../network/hosts-file.ts';
import { isErrno } from '../errors.ts';

/** Docker's /etc/hosts for a container without a network address (the networking layer rewrites it). */
export const DEFAULT_HOSTS = [...LOCAL_HOSTS, ''].join('\n');

/**
 * The host's resolv.conf without loopback nameservers (unreachable from a container's own network
 * namespace), as dockerd filters it; Google's public servers when nothing is left.
 */
export async function defaultResolvConf(): Promise<string> {
  const host = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(l));
  const kept = lines.join('\n').trim();
  if (/^\s*nameserver\s/m.test(kept)) return `${kept}\n`;
  return `${kept ? `${kept}\n` : ''}nameserver 8.8.8.8\nnameserver 8.8.4.4\n`;
}

/**
 * Write the files a container's /etc/hosts, /etc/hostname and /etc/resolv.conf are bind-mounted from (hosts
 * only when missing: the networking layer keeps it). Plain writes, not atomic ones with fsyncs: the container
 * is not running yet, and every start writes them again.
 */
export async function writeEtcFiles(paths: { hosts: string; hostname: string; resolvConf: string }, hostname: string, resolvConf: string): Promise<void> {
  await Promise.all([
    fs.writeFile(paths.hostname, `${hostname}\n`, { mode: 0o644 }),
    fs.writeFile(paths.resolvConf, resolvConf, { mode: 0o644 }),
    fs.writeFile(paths.hosts, DEFAULT_HOSTS, { mode: 0o644, flag: 'wx' }).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err;
    }),
  ]);
}
