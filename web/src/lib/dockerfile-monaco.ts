/**
 * Dockerfile language support in Monaco from dockerfile-language-service: diagnostics as markers, completion
 * and hover. The service speaks LSP types (0-based positions); Monaco's are 1-based with its own enums.
 */
import { DockerfileLanguageServiceFactory } from 'dockerfile-language-service';
import type * as Monaco from 'monaco-editor/editor/editor.api';
import type {
  CompletionItem as LspCompletionItem,
  Diagnostic,
  Hover,
  MarkedString,
  MarkupContent,
  Range as LspRange,
} from 'vscode-languageserver-types';

type MonacoApi = typeof Monaco;

const service = DockerfileLanguageServiceFactory.createLanguageService();
service.setCapabilities({
  completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
  hover: { contentFormat: ['markdown', 'plaintext'] },
});

const MARKER_OWNER = 'dockerfile-language-service';
const VALIDATE_DELAY_MS = 300;
// LSP CompletionItemKind values 1…25, by name (Monaco's enum has the same names, different numbers).
const LSP_KINDS = [
  '', 'Text', 'Method', 'Function', 'Constructor', 'Field', 'Variable', 'Class', 'Interface', 'Module',
  'Property', 'Unit', 'Value', 'Enum', 'Keyword', 'Snippet', 'Color', 'File', 'Reference', 'Folder',
  'EnumMember', 'Constant', 'Struct', 'Event', 'Operator', 'TypeParameter',
] as const;

const toRange = (r: LspRange): Monaco.IRange => ({
  startLineNumber: r.start.line + 1,
  startColumn: r.start.character + 1,
  endLineNumber: r.end.line + 1,
  endColumn: r.end.character + 1,
});

const toPosition = (p: Monaco.IPosition) => ({ line: p.lineNumber - 1, character: p.column - 1 });

function toSeverity(monaco: MonacoApi, severity: Diagnostic['severity']): Monaco.MarkerSeverity {
  switch (severity) {
    case 1: return monaco.MarkerSeverity.Error;
    case 2: return monaco.MarkerSeverity.Warning;
    case 3: return monaco.MarkerSeverity.Info;
    default: return monaco.MarkerSeverity.Hint;
  }
}

function toMarkdown(content: string | MarkupContent | MarkedString): Monaco.IMarkdownString {
  if (typeof content === 'string') return { value: content };
  if ('kind' in content) return { value: content.value };
  return { value: '```' + content.language + '\n' + content.value + '\n```' };
}

function toCompletion(monaco: MonacoApi, item: LspCompletionItem, fallback: Monaco.IRange): Monaco.languages.CompletionItem {
  const kinds = monaco.languages.CompletionItemKind;
  const kindName = LSP_KINDS[item.kind ?? 1] || 'Text';
  const edit = item.textEdit && 'range' in item.textEdit ? item.textEdit : null;
  return {
    label: item.label,
    kind: kinds[kindName as keyof typeof kinds] ?? kinds.Text,
    detail: item.detail,
    documentation: item.documentation === undefined ? undefined : toMarkdown(item.documentation),
    insertText: edit?.newText ?? item.insertText ?? item.label,
    insertTextRules: item.insertTextFormat === 2 ? monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet : undefined,
    range: edit ? toRange(edit.range) : fallback,
    sortText: item.sortText,
    filterText: item.filterText,
    tags: item.deprecated ? [monaco.languages.CompletionItemTag.Deprecated] : undefined,
  };
}

function validate(monaco: MonacoApi, model: Monaco.editor.ITextModel): void {
  if (model.isDisposed()) return;
  const markers = service.validate(model.getValue()).map((d) => ({
    ...toRange(d.range),
    message: d.message,
    severity: toSeverity(monaco, d.severity),
    source: 'dockerfile',
    code: d.code === undefined ? undefined : String(d.code),
  }));
  monaco.editor.setModelMarkers(model, MARKER_OWNER, markers);
}

/** Watches a Dockerfile model: validates now and again (debounced) after each change. */
function watchModel(monaco: MonacoApi, model: Monaco.editor.ITextModel): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => validate(monaco, model);
  const check = () => {
    clearTimeout(timer);
    if (model.getLanguageId() === 'dockerfile') timer = setTimeout(run, VALIDATE_DELAY_MS);
    else monaco.editor.setModelMarkers(model, MARKER_OWNER, []);
  };
  const sub = model.onDidChangeContent(check);
  const lang = model.onDidChangeLanguage(check);
  model.onWillDispose(() => {
    clearTimeout(timer);
    sub.dispose();
    lang.dispose();
  });
  if (model.getLanguageId() === 'dockerfile') run();
}

/** Registers completion, hover and diagnostics for the `dockerfile` language (call once). */
export function registerDockerfileSupport(monaco: MonacoApi): void {
  monaco.languages.registerCompletionItemProvider('dockerfile', {
    triggerCharacters: [' ', '-', '=', '$', '{', '\\'],
    async provideCompletionItems(model, position) {
      const items = await service.computeCompletionItems(model.getValue(), toPosition(position));
      const word = model.getWordUntilPosition(position);
      const fallback = {
        startLineNumber: position.lineNumber,
        endLineNumber: position.lineNumber,
        startColumn: word.startColumn,
        endColumn: word.endColumn,
      };
      const resolved = items.map((i) => (i.documentation === undefined ? service.resolveCompletionItem(i) : i));
      return { suggestions: resolved.map((i) => toCompletion(monaco, i, fallback)) };
    },
  });
  monaco.languages.registerHoverProvider('dockerfile', {
    provideHover(model, position): Monaco.languages.Hover | null {
      const hover: Hover | null = service.computeHover(model.getValue(), toPosition(position));
      if (!hover) return null;
      const contents = Array.isArray(hover.contents) ? hover.contents : [hover.contents];
      return { contents: contents.map(toMarkdown), range: hover.range ? toRange(hover.range) : undefined };
    },
  });
  monaco.editor.onDidCreateModel((model) => watchModel(monaco, model));
}
