/**
 * The frontmatter of a lesson: a block of `key: value` lines between two `---` lines at the very top.
 * Deliberately tiny (no YAML dependency): one value per key, on one line, optionally in double quotes
 * (then read as a JSON string, so `"a: b \"c\""` works). Anything else is an error naming the file and line.
 */
export function parseFrontmatter(text: string, file: string): { data: Record<string, string>; body: string } {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== '---') throw new Error(`${file}: must start with a --- frontmatter block`);
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end < 0) throw new Error(`${file}: the frontmatter block is not closed with ---`);
  const data: Record<string, string> = {};
  for (let i = 1; i < end; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([a-zA-Z][\w-]*):\s*(.*?)\s*$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected "key: value", got ${JSON.stringify(line)}`);
    const key = m[1]!;
    if (key in data) throw new Error(`${file}:${i + 1}: "${key}" is set twice`);
    data[key] = unquote(m[2]!, `${file}:${i + 1}`);
  }
  return { data, body: lines.slice(end + 1).join('\n').replace(/^\n+/, '') };
}

function unquote(value: string, where: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'string') return parsed;
  } catch {
    // reported below
  }
  throw new Error(`${where}: a quoted value must be one JSON string, got ${value}`);
}
