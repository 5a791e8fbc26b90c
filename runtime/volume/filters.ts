import { invalid } from '../errors.ts';

/** `filters` of `docker volume ls` / `prune`: name → values. */
export type VolumeFilters = Map<string, string[]>;

/**
 * dockerd's volume filters: `name` (substring), `dangling` (true: no container uses it), `label` (`k` or
 * `k=v`), `driver`. Returns a predicate over a volume's name and labels.
 */
export function volumeFilter(filters: VolumeFilters, inUse: (name: string) => boolean): (name: string, labels: Record<string, string>) => boolean {
  for (const key of filters.keys()) if (!['name', 'dangling', 'label', 'driver'].includes(key)) throw invalid(`invalid filter '${key}'`);
  const dangling = filters.get('dangling');
  if (dangling?.some((v) => !['true', 'false', '1', '0'].includes(v))) throw invalid(`invalid filter 'dangling=${dangling.join(',')}'`);
  return (name, labels) => {
    const names = filters.get('name');
    if (names && !names.some((n) => name.includes(n))) return false;
    if (dangling && !dangling.some((v) => (v === 'true' || v === '1') === !inUse(name))) return false;
    const drivers = filters.get('driver');
    if (drivers && !drivers.includes('local')) return false;
    for (const want of filters.get('label') ?? []) {
      const i = want.indexOf('=');
      if (i < 0 ? !(want in labels) : labels[want.slice(0, i)] !== want.slice(i + 1)) return false;
    }
    return true;
  };
}
