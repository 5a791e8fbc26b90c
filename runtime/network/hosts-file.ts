import { constants, promises as fs } from 'node:fs';
import { invalid } from '../errors.ts';
import { parseIp } from './ipv4.ts';

/** The loopback and IPv6 lines every Docker container's /etc/hosts starts with. */
export const LOCAL_HOSTS: readonly string[] = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * Name resolution between containers without a DNS server: layerlab writes each container's /etc/hosts
 * (the runtime bind-mounts the file) and rewrites it whenever a container joins or leaves a user network
 * the container is on. libc reads /etc/hosts on every lookup, so `ping web`, `curl web` and `getent hosts`
 * see the change at once, in any image, with no daemon in any netns.
 */

export interface HostsEntry {
  ip: string;
  names: string[];
}

const NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,252})$/;

/** True for a name safe to write into a hosts line (no whitespace, no comment or control characters). */
export function isHostName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Parse `--add-host` values (`name:ip`), refusing anything that could break or smuggle lines. */
export function parseExtraHosts(values: readonly string[]): Array<[string, string]> {
  return values.map((value) => {
    const at = value.indexOf(':');
    const name = at > 0 ? value.slice(0, at) : '';
    const addr = at > 0 ? value.slice(at + 1) : '';
    if (!isHostName(name)) throw invalid(`invalid argument "${value}" for "--add-host" flag`);
    if (parseIp(addr) === undefined && !/^[0-9a-fA-F:]{2,39}$/.test(addr)) throw invalid(`invalid IP address in add-host: "${addr}"`);
    return [name, addr];
  });
}

/** The file's text, in Docker's layout, plus the peers reachable by name. */
export function renderHosts(own: HostsEntry[], extra: Array<[string, string]>, peers: HostsEntry[]): string {
  const lines = [...LOCAL_HOSTS];
  for (const [name, addr] of extra) lines.push(`${addr}\t${name}`);
  const line = (e: HostsEntry) => `${e.ip}\t${e.names.filter(isHostName).join(' ')}`;
  for (const e of own) lines.push(line(e));
  if (peers.length > 0) {
    lines.push('# containers on the same user-defined networks (kept up to date by layerlab)');
    for (const e of peers) lines.push(line(e));
  }
  return lines.join('\n') + '\n';
}

/**
 * Rewrite the file in place. The runtime bind-mounts this inode into the container, so a rename would
 * leave the container looking at the old file. O_NOFOLLOW and the regular-file check keep a planted
 * link from redirecting the write.
 */
export async function writeHostsFile(file: string, text: string): Promise<void> {
  const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw invalid(`hosts file is not a regular file: ${file}`);
    const data = Buffer.from(text);
    await handle.write(data, 0, data.length, 0);
    await handle.truncate(data.length);
  } finally {
    await handle.close();
  }
}
