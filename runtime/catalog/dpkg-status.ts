/**
 * `name=version` of every package a dpkg status file (/var/lib/dpkg/status) lists as installed, sorted: the
 * catalog's packages label.
 */
export function installedPackages(status: string): string[] {
  const out: string[] = [];
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: *(.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const [pkg, version, state] = [field('Package'), field('Version'), field('Status')];
    if (pkg && version && state === 'install ok installed') out.push(`${pkg}=${version}`);
  }
  return out.sort();
}
