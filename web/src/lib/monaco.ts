/**
 * Monaco, lean: the editor API, its features, the few languages a Docker learner meets, and only the base
 * editor worker (no TypeScript/JSON/CSS/HTML language workers).
 */
import * as monaco from 'monaco-editor/editor/editor.api';
// The editor features a learner uses; not the diff editor, inline completions, sticky scroll and the like.
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/codeEditor/register';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/caretOperations/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/codeAction/register';
import 'monaco-editor/features/comment/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/cursorUndo/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/format/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/gotoLine/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/indentation/register';
import 'monaco-editor/features/linesOperations/register';
import 'monaco-editor/features/links/register';
import 'monaco-editor/features/multicursor/register';
import 'monaco-editor/features/quickCommand/register';
import 'monaco-editor/features/readOnlyMessage/register';
import 'monaco-editor/features/smartSelect/register';
import 'monaco-editor/features/snippet/register';
import 'monaco-editor/features/suggest/register';
import 'monaco-editor/features/tokenization/register';
import 'monaco-editor/features/unicodeHighlighter/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/features/wordOperations/register';
import 'monaco-editor/features/wordPartOperations/register';
import 'monaco-editor/languages/definitions/dockerfile/register';
import 'monaco-editor/languages/definitions/shell/register';
import 'monaco-editor/languages/definitions/javascript/register';
import 'monaco-editor/languages/definitions/python/register';
import 'monaco-editor/languages/definitions/yaml/register';
import 'monaco-editor/languages/definitions/markdown/register';
import 'monaco-editor/languages/definitions/html/register';
import 'monaco-editor/languages/definitions/css/register';
import 'monaco-editor/languages/definitions/ini/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { registerDockerfileSupport } from './dockerfile-monaco.ts';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

// JSON has no Monarch grammar without its language worker; a tiny one keeps .json files coloured.
monaco.languages.register({ id: 'json', extensions: ['.json', '.jsonc'], aliases: ['JSON'] });
monaco.languages.setMonarchTokensProvider('json', {
  tokenizer: {
    root: [
      [/"(?:[^"\\]|\\.)*"(?=\s*:)/, 'type'],
      [/"(?:[^"\\]|\\.)*"/, 'string'],
      [/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/, 'number'],
      [/\b(?:true|false|null)\b/, 'keyword'],
    ],
  },
});
registerDockerfileSupport(monaco);

const BY_NAME: Record<string, string> = {
  dockerfile: 'dockerfile',
  containerfile: 'dockerfile',
  makefile: 'shell',
  '.bashrc': 'shell',
  '.profile': 'shell',
  '.dockerignore': 'plaintext',
  '.env': 'ini',
};

/** The Monaco language id for a workspace path (Dockerfile, Dockerfile.dev, app.dockerfile, *.sh, …). */
export function languageFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const named = BY_NAME[name];
  if (named) return named;
  if (name.startsWith('dockerfile.') || name.endsWith('.dockerfile') || name.startsWith('containerfile.')) {
    return 'dockerfile';
  }
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot) : '';
  const lang = monaco.languages.getLanguages().find((l) => l.extensions?.includes(ext));
  return lang?.id ?? 'plaintext';
}

export { monaco };
