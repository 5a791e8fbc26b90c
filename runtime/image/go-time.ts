/** Go's zero time, which dockerd reports for an image without a `created` field. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const GO_ZERO_UNIX = -62135596800;

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** Unix seconds of a config timestamp, as Go's Time.Unix(); the zero time when it is missing or malformed. */
export function unixSeconds(created: string | undefined): number {
  if (!created || !RFC3339.test(created)) return GO_ZERO_UNIX;
  const ms = Date.parse(created);
  return Number.isNaN(ms) ? GO_ZERO_UNIX : Math.floor(ms / 1000);
}

/**
 * A config timestamp re-formatted the way dockerd prints it (Go's RFC3339Nano on a UTC daemon): trailing
 * zeros of the fraction dropped, a zero offset written `Z`. Nanosecond digits survive, unlike a JS Date.
 */
export function goTimeString(created: string | undefined): string {
  const m = created ? RFC3339.exec(created) : null;
  if (!m) return GO_ZERO_TIME;
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const zone = /^(z|[+-]00:00)$/i.test(m[3]!) ? 'Z' : m[3]!;
  return `${m[1]}${fraction ? `.${fraction}` : ''}${zone}`;
}
