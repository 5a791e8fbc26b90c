/**
 * Lesson Markdown → sanitized HTML. Fenced code blocks become `<div class="code-block">` with their language
 * and file name as data attributes; the lesson pane adds the Run / Open / Copy buttons to them afterwards
 * (as DOM nodes, so no button markup goes through the sanitizer).
 */
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

const SHELL_LANGS = new Set(['sh', 'bash', 'console', 'shell', 'shell-session', 'zsh']);

/** What a fence's info string says: ```` ```dockerfile file=Dockerfile ```` → { lang, file }. */
export interface FenceInfo {
  lang: string;
  file: string | null;
}

/** Parses a fence info string: the first word is the language, then `file=`/`title=` name the file. */
export function parseInfo(info: string): FenceInfo {
  const [lang = '', ...rest] = info.trim().split(/\s+/);
  let file: string | null = null;
  for (const part of rest) {
    const m = /^(?:file|title|filename)=(?:"([^"]*)"|'([^']*)'|(\S+))$/.exec(part);
    if (m) file = m[1] ?? m[2] ?? m[3] ?? null;
  }
  return { lang: lang.toLowerCase(), file };
}

/** Whether a block of this language holds commands to run. */
export const isShell = (lang: string): boolean => SHELL_LANGS.has(lang);

/**
 * The commands in a shell block: if some lines start with `$ `, only those (the rest is shown output);
 * otherwise every non-empty line that is not a comment.
 */
export function commandsOf(code: string): string[] {
  const lines = code.split('\n').map((l) => l.trimEnd());
  const prompted = lines.filter((l) => /^\$ /.test(l.trimStart()));
  if (prompted.length > 0) return prompted.map((l) => l.trimStart().slice(2));
  return lines.filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const info = parseInfo(lang ?? '');
      const file = info.file ? ` data-file="${escape(info.file)}"` : '';
      return `<div class="code-block" data-lang="${escape(info.lang)}"${file}><pre><code>${escape(text)}</code></pre></div>`;
    },
  },
});

const purify = DOMPurify();
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** Renders lesson Markdown to HTML that is safe to inject (scripts, handlers, forms and frames removed). */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown, { async: false });
  return purify.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe', 'textarea', 'select'],
    ALLOW_DATA_ATTR: true,
  });
}
