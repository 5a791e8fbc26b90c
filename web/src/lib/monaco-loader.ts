/** Monaco loads on demand, after the terminal is up, so the first paint does not wait for ~3 MB of editor. */
type MonacoModule = typeof import('./monaco.ts');

let loading: Promise<MonacoModule> | null = null;

/** The Monaco module (languages, worker and Dockerfile support registered), loaded once. */
export function loadMonaco(): Promise<MonacoModule> {
  loading ??= import('./monaco.ts');
  return loading;
}
