import { invalid } from '../errors.ts';

/** Typed access to a request's query string, with Docker's conventions for booleans and filters. */
export class Query {
  constructor(private readonly params: URLSearchParams) {}

  string(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null ? undefined : v;
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  /** Docker's boolean query values: `1`, `true`, `True` (and anything not `0`/`false`/empty) are true. */
  bool(name: string): boolean {
    const v = this.params.get(name);
    if (v === null) return false;
    return !['', '0', 'false', 'False', 'FALSE', 'no'].includes(v);
  }

  int(name: string, fallback?: number): number | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalid(`invalid value for ${name}: ${JSON.stringify(v.slice(0, 50))}`);
    return n;
  }

  /**
   * `filters` is URL-encoded JSON: `{"dangling":{"true":true}}`, or the legacy `{"dangling":["true"]}`.
   * Returns a map from filter name to its set of values.
   */
  filters(): Map<string, string[]> {
    const raw = this.params.get('filters');
    const out = new Map<string, string[]>();
    if (!raw) return out;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid(`invalid filter: ${JSON.stringify(raw.slice(0, 100))}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('invalid filter: not a JSON object');
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(value)) out.set(key, value.map(String));
      else if (typeof value === 'object' && value !== null) out.set(key, Object.keys(value));
      else throw invalid(`invalid filter '${key}'`);
    }
    return out;
  }
}

/** Reject filter names an endpoint does not support, with Docker's message. */
export function checkFilterNames(filters: Map<string, string[]>, allowed: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw invalid(`invalid filter '${key}'`);
  }
}
