import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Lesson, LessonSummary } from '../protocol.ts';
import { splitPath } from '../workspace/paths.ts';
import { parseFrontmatter } from './frontmatter.ts';
import { readStarterFiles, type StarterFile } from './starter.ts';

export type { StarterFile } from './starter.ts';

/** The lessons the server offers, loaded once at start. */
export interface LessonCatalog {
  /** Every lesson, in the order of their folder numbers. */
  list(): LessonSummary[];
  get(slug: string): Lesson | undefined;
  /** The files POST /api/lessons/:slug/start copies into the workspace (empty for an unknown slug). */
  starterFiles(slug: string): StarterFile[];
}

/** `NN-slug`: two digits give the order, the rest is the slug in URLs. */
const FOLDER = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

const Frontmatter = z
  .object({
    title: z.string().min(1).max(80),
    summary: z.string().min(1).max(240),
  })
  .strict();

/**
 * Load every lesson folder of `dir` (format: lessons/README.md). An invalid lesson fails the whole load with
 * an error naming its file, so a broken lesson stops the server at start rather than a learner mid-lesson.
 */
export async function loadLessons(dir: string): Promise<LessonCatalog> {
  const lessons = new Map<string, { lesson: Lesson; files: StarterFile[] }>();
  const numbers = new Map<string, string>();
  const entries = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const folder of entries.sort()) {
    const m = FOLDER.exec(folder);
    if (!m) throw new Error(`${path.join(dir, folder)}: a lesson folder is named NN-slug (two digits, lowercase words joined by -)`);
    const [, number, slug] = m as unknown as [string, string, string];
    if (numbers.has(number)) throw new Error(`${path.join(dir, folder)}: number ${number} is also used by ${numbers.get(number)}`);
    if (lessons.has(slug)) throw new Error(`${path.join(dir, folder)}: slug ${slug} is used twice`);
    numbers.set(number, folder);
    lessons.set(slug, await loadLesson(path.join(dir, folder), slug));
  }
  const ordered = [...lessons.values()];
  return {
    list: () => ordered.map(({ lesson }) => ({ slug: lesson.slug, title: lesson.title, summary: lesson.summary })),
    get: (slug) => lessons.get(slug)?.lesson,
    starterFiles: (slug) => lessons.get(slug)?.files ?? [],
  };
}

async function loadLesson(folder: string, slug: string): Promise<{ lesson: Lesson; files: StarterFile[] }> {
  const file = path.join(folder, 'lesson.md');
  const text = await fsp.readFile(file, 'utf8').catch(() => {
    throw new Error(`${file}: missing`);
  });
  const { data, body } = parseFrontmatter(text, file);
  const meta = Frontmatter.safeParse(data);
  if (!meta.success) {
    const issues = meta.error.issues.map((i) => `${i.path.join('.') || 'frontmatter'}: ${i.message}`).join('; ');
    throw new Error(`${file}: invalid frontmatter: ${issues}`);
  }
  checkFileBlocks(body, file);
  const filesDir = path.join(folder, 'files');
  const files = (await exists(filesDir)) ? await readStarterFiles(filesDir) : [];
  return { lesson: { slug, ...meta.data, markdown: body, files: files.map((f) => f.path) }, files };
}

/** Every ```lang file=PATH block must name a plain workspace path, or "Open in editor" could not open it. */
function checkFileBlocks(markdown: string, file: string): void {
  for (const m of markdown.matchAll(/^```[\w-]*[ \t]+.*\bfile=(\S*)/gm)) {
    try {
      splitPath(m[1]);
    } catch (err) {
      throw new Error(`${file}: file block ${JSON.stringify(m[0])}: ${(err as Error).message}`);
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    (st) => {
      if (!st.isDirectory()) throw new Error(`${p}: must be a directory`);
      return true;
    },
    () => false,
  );
}
