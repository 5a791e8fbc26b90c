import { toEngineError } from '../http.ts';

/**
 * Docker's JSON progress messages (moby pkg/streamformatter, jsonmessage): a status with a byte counter and
 * the ready-made bar string the daemon renders for a 200-column terminal.
 */
export function progressMessage(status: string, id: string, current: number, total: number): Record<string, unknown> {
  return { status, progressDetail: { current, total }, progress: progressBar(current, total), id };
}

/** An error inside a stream: the CLI fails only on `errorDetail`, so both fields are sent. */
export function errorMessage(err: unknown): Record<string, unknown> {
  const message = toEngineError(err).message;
  return { errorDetail: { message }, error: message };
}

export function progressBar(current: number, total: number): string {
  if (total <= 0) return current > 0 ? humanSize(current).padStart(8) : '';
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(percentage)}>${' '.repeat(50 - percentage)}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize: decimal units, four significant digits (`%.4g`). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${UNITS[unit]}`;
}
