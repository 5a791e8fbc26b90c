/** The app theme (dark/light): follows prefers-color-scheme until the learner picks one, then remembered. */
export type Theme = 'dark' | 'light';

const KEY = 'layerlab.theme';

function initial(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** The reactive theme; components read `theme.current`. */
export const theme = $state({ current: initial() });

/** Applies the theme to the document (CSS variables key off `data-theme`), following the system until chosen. */
export function applyTheme(): void {
  document.documentElement.dataset.theme = theme.current;
}

matchMedia('(prefers-color-scheme: light)').addEventListener('change', (e) => {
  if (localStorage.getItem(KEY) !== null) return;
  theme.current = e.matches ? 'light' : 'dark';
  applyTheme();
});

/** Switches dark ↔ light and remembers the choice. */
export function toggleTheme(): void {
  theme.current = theme.current === 'dark' ? 'light' : 'dark';
  localStorage.setItem(KEY, theme.current);
  applyTheme();
}
