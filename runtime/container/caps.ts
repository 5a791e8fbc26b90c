import { forbidden, invalid } from '../errors.ts';

/**
 * Docker's default capability set: what a container's root keeps. Everything else (SYS_ADMIN above all,
 * which would allow mounting a writable cgroup v1 hierarchy and the release_agent escape) is dropped.
 */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

/** Bit numbers from linux/capability.h, for reading CapEff masks in tests and diagnostics. */
export const CAPABILITY_BITS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_CHROOT: 18,
  CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29,
  CAP_SETFCAP: 31,
};

/** `NET_ADMIN`, `cap_net_admin` and `CAP_NET_ADMIN` all name one capability, as in Docker. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return upper;
  if (!/^[A-Z_]{2,40}$/.test(upper)) throw invalid(`invalid capability: ${JSON.stringify(name.slice(0, 60))}`);
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * The capability set of a container: the defaults minus CapDrop. CapAdd may only name capabilities that are
 * already in the default set (a no-op Docker accepts); anything else would widen the sandbox and is refused.
 */
export function effectiveCapabilities(capAdd: readonly string[] = [], capDrop: readonly string[] = []): string[] {
  const defaults = new Set<string>(DEFAULT_CAPABILITIES);
  for (const cap of capAdd.map(normalizeCapability)) {
    if (!defaults.has(cap)) {
      throw forbidden(`--cap-add ${cap.replace(/^CAP_/, '')} is not allowed in layerlab: containers keep Docker's default capabilities and no more`);
    }
  }
  const drop = new Set(capDrop.map(normalizeCapability));
  if (drop.has('ALL')) return [];
  return DEFAULT_CAPABILITIES.filter((c) => !drop.has(c));
}
