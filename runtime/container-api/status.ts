import type { ContainerState } from '../container/types.ts';
import { humanDuration } from '../util/human-duration.ts';

const ZERO_TIME_PREFIX = '0001-01-01';

/** Milliseconds since the epoch of a stored RFC 3339 time (nanosecond digits cut to milliseconds). */
export function timeMs(rfc3339: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return Date.parse(rfc3339);
  return Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`);
}

function isZero(time: string): boolean {
  return time.startsWith(ZERO_TIME_PREFIX);
}

/** The `Status` string of `/containers/json`, as dockerd's State.String() makes it (engine-api-facts §11). */
export function statusString(state: ContainerState, now = Date.now()): string {
  if (state.Running) {
    const up = humanDuration(now - timeMs(state.StartedAt));
    if (state.Paused) return `Up ${up} (Paused)`;
    if (state.Restarting) return `Restarting (${state.ExitCode}) ${humanDuration(now - timeMs(state.FinishedAt))} ago`;
    return `Up ${up}`;
  }
  if (state.Status === 'removing') return 'Removal In Progress';
  if (state.Dead) return 'Dead';
  // A container whose start failed never ran: dockerd shows it as Created, with State "exited".
  if (isZero(state.StartedAt)) return 'Created';
  if (isZero(state.FinishedAt)) return '';
  return `Exited (${state.ExitCode}) ${humanDuration(now - timeMs(state.FinishedAt))} ago`;
}

/**
 * `Command` of `/containers/json` (moby container/view.go): Path and Args joined by spaces, an argument
 * containing a space wrapped in single quotes.
 */
export function commandString(path: string, args: readonly string[]): string {
  return [path, ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}
