import { EngineError, invalid } from '../errors.ts';

/** A request's `filters`: name → values (engine-api-facts §1.12). */
export type Filters = ReadonlyMap<string, readonly string[]>;

/** dockerd's filters.Validate: any name outside the accepted set is a 400 `Invalid filter 'name'`. */
export function validateFilters(filters: Filters, accepted: readonly string[]): void {
  for (const name of filters.keys()) {
    if (!accepted.includes(name)) throw invalid(`Invalid filter '${name}'`);
  }
}

/**
 * The `dangling` filter: true (only dangling images), false, or absent (undefined). Like filters.ExactMatch,
 * a set holding `true` wins. Image prune also accepts `1` and `0`; the image list does not.
 */
export function danglingFilter(filters: Filters, acceptNumeric: boolean): boolean | undefined {
  const values = filters.get('dangling');
  if (!values || values.length === 0) return undefined;
  const yes = acceptNumeric ? ['true', '1'] : ['true'];
  const no = acceptNumeric ? ['false', '0'] : ['false'];
  // Prune checks "false" first; the list checks "true" first. Only a set holding both can tell them apart.
  if (acceptNumeric && values.some((v) => no.includes(v))) return false;
  if (values.some((v) => yes.includes(v))) return true;
  if (values.some((v) => no.includes(v))) return false;
  throw invalid(`Invalid filter 'dangling=[${values.join(' ')}]'`);
}

/**
 * filters.MatchKVList: every `key` or `key=value` in the filter must be present in the labels. No filter
 * matches everything; a filter against no labels matches nothing.
 */
export function matchKVList(values: readonly string[] | undefined, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  if (!values || values.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  return values.every((value) => {
    const eq = value.indexOf('=');
    const key = eq === -1 ? value : value.slice(0, eq);
    if (!Object.hasOwn(labels, key)) return false;
    return eq === -1 || labels[key] === value.slice(eq + 1);
  });
}

/** Prune's label rule: all `label` filters match and, when `label!` is given, not all of those match. */
export function matchPruneLabels(filters: Filters, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  if (!matchKVList(filters.get('label'), labels)) return false;
  const negated = filters.get('label!');
  return !(negated && negated.length > 0 && matchKVList(negated, labels));
}

/** A daemon error with no typed cause, which dockerd reports as a 500. */
export function untyped(message: string): EngineError {
  return new EngineError('INTERNAL', message);
}
