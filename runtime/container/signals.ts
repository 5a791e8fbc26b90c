import os from 'node:os';
import { invalid } from '../errors.ts';

/**
 * Parse a signal as Docker accepts it (`KILL`, `SIGKILL`, `9`, `sigterm`) into its name and number on this
 * host. Realtime signals (`RTMIN+3`) are accepted by number only.
 */
export function parseSignal(value: string | number): { name: string; number: number } {
  const text = String(value).trim();
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw invalid(`Invalid signal: ${text}`);
    const name = Object.keys(signals).find((k) => signals[k] === n);
    return { name: name ?? String(n), number: n };
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const number = signals[name];
  if (number === undefined) throw invalid(`Invalid signal: ${text}`);
  return { name, number };
}
