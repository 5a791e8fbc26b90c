/**
 * The files open in the editor: one Monaco model per text file, with saved/dirty state, and what to do when
 * the file changes on disk (reload when clean, flag when dirty).
 */
import type * as Monaco from 'monaco-editor/editor/editor.api';
import type { FileContent } from '../../../server/protocol.ts';
import { errorMessage, readFile, writeFile } from './api.ts';
import { loadMonaco } from './monaco-loader.ts';
import { within } from './tree.ts';

/** One open file (binary and too-large files are open as a notice, without a model). */
export interface OpenFile {
  path: string;
  kind: FileContent['kind'];
  size: number;
  model: Monaco.editor.ITextModel | null;
  /** The model's alternative version id when it last matched the disk. */
  savedVersion: number;
  /** The text we last read or wrote: a change event for exactly this text is our own save, not news. */
  diskText: string | null;
  dirty: boolean;
  saving: boolean;
  error: string | null;
  /** The file changed on disk while it had unsaved edits. */
  diskChanged: boolean;
}

/** The open files and their editor state. */
export class OpenFiles {
  files = $state<OpenFile[]>([]);

  /** The open file at a path. */
  get(path: string): OpenFile | undefined {
    return this.files.find((f) => f.path === path);
  }

  /** Opens a file (no-op when already open); throws when the server refuses. */
  async open(path: string): Promise<OpenFile> {
    const existing = this.get(path);
    if (existing) return existing;
    const [content, { monaco, languageFor }] = await Promise.all([readFile(path), loadMonaco()]);
    const again = this.get(path);
    if (again) return again;
    const file: OpenFile = {
      path,
      kind: content.kind,
      size: content.kind === 'text' ? content.content.length : content.size,
      model: null,
      savedVersion: 0,
      diskText: content.kind === 'text' ? content.content : null,
      dirty: false,
      saving: false,
      error: null,
      diskChanged: false,
    };
    if (content.kind === 'text') {
      const uri = monaco.Uri.from({ scheme: 'file', path: `/workspace/${path}` });
      monaco.editor.getModel(uri)?.dispose();
      const model = monaco.editor.createModel(content.content, languageFor(path), uri);
      file.model = model;
      file.savedVersion = model.getAlternativeVersionId();
    }
    this.files.push(file);
    const live = this.get(path)!;
    live.model?.onDidChangeContent(() => this.#updateDirty(path));
    return live;
  }

  /** Saves a text file; returns false (with `error` set) when the server refused. */
  async save(path: string): Promise<boolean> {
    const file = this.get(path);
    if (!file?.model || file.saving) return false;
    const version = file.model.getAlternativeVersionId();
    const text = file.model.getValue();
    file.saving = true;
    file.error = null;
    try {
      await writeFile(path, text);
      file.savedVersion = version;
      file.diskText = text;
      file.diskChanged = false;
      return true;
    } catch (err) {
      file.error = errorMessage(err);
      return false;
    } finally {
      file.saving = false;
      this.#updateDirty(path);
    }
  }

  /** Replaces the editor content with the disk's (keeps undo history). */
  async reload(path: string): Promise<void> {
    const file = this.get(path);
    if (!file) return;
    let content: FileContent;
    try {
      content = await readFile(path);
    } catch (err) {
      file.error = errorMessage(err);
      return;
    }
    this.#apply(file, content);
  }

  /** Reacts to `files-changed`: reloads clean files, flags dirty ones (paths may name a parent dir). */
  async changedOnDisk(paths: string[]): Promise<void> {
    const touched = this.files.filter((f) => paths.length === 0 || paths.some((p) => within(f.path, p)));
    await Promise.all(
      touched.map(async (f) => {
        let content: FileContent;
        try {
          content = await readFile(f.path);
        } catch {
          return; // Deleted or unreadable: the tree shows it; keep the learner's text.
        }
        const file = this.get(f.path);
        if (!file) return;
        if (content.kind === 'text' && (content.content === file.diskText || content.content === file.model?.getValue())) return;
        if (file.dirty) file.diskChanged = true;
        else this.#apply(file, content);
      }),
    );
  }

  /** Closes a file and disposes its model. */
  close(path: string): void {
    const file = this.get(path);
    file?.model?.dispose();
    this.files = this.files.filter((f) => f.path !== path);
  }

  /** Closes everything (sandbox reset). */
  closeAll(): void {
    for (const f of this.files) f.model?.dispose();
    this.files = [];
  }

  #apply(file: OpenFile, content: FileContent): void {
    file.diskChanged = false;
    file.error = null;
    if (content.kind !== 'text' || !file.model) {
      file.kind = content.kind;
      file.size = content.kind === 'text' ? content.content.length : content.size;
      return;
    }
    const model = file.model;
    file.diskText = content.content;
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text: content.content }], () => null);
    file.savedVersion = model.getAlternativeVersionId();
    this.#updateDirty(file.path);
  }

  #updateDirty(path: string): void {
    const file = this.get(path);
    if (file?.model) file.dirty = file.model.getAlternativeVersionId() !== file.savedVersion;
  }
}
