/** Reads a number remembered in localStorage, or the fallback when absent or out of range. */
export function loadNumber(key: string, fallback: number, min: number, max: number): number {
  const v = Number(localStorage.getItem(key));
  return localStorage.getItem(key) !== null && Number.isFinite(v) && v >= min && v <= max ? v : fallback;
}

/** Remembers a number in localStorage. */
export function saveNumber(key: string, value: number): void {
  localStorage.setItem(key, String(Math.round(value * 10) / 10));
}

/** Reads a remembered string, or null. */
export const loadString = (key: string): string | null => localStorage.getItem(key);
/** Remembers a string. */
export const saveString = (key: string, value: string): void => localStorage.setItem(key, value);
