import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** A context file: its content, or content with a mode. */
export type ContextFile = string | { content: string; mode: number };

/** Write a build context directory (parents created). */
export async function writeContext(dir: string, files: Record<string, ContextFile>): Promise<void> {
  for (const [name, file] of Object.entries(files)) {
    const target = path.join(dir, name);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const { content, mode } = typeof file === 'string' ? { content: file, mode: 0o644 } : file;
    await fs.writeFile(target, content);
    await fs.chmod(target, mode);
  }
}

export interface StepLine {
  step: number;
  text: string;
  cached: boolean;
}

/** The steps of a classic build's output, each with whether it came from the cache (` ---> Using cache`). */
export function steps(stdout: string): StepLine[] {
  const lines = stdout.split('\n');
  const out: StepLine[] = [];
  lines.forEach((line, i) => {
    const m = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
    if (m) out.push({ step: Number(m[1]), text: m[2]!, cached: lines[i + 1] === ' ---> Using cache' });
  });
  return out;
}

/** The hit/miss pattern of the steps after FROM: `H` for a cache hit, `M` for a miss. */
export function cachePattern(stdout: string): string {
  return steps(stdout)
    .filter((s) => !s.text.startsWith('FROM '))
    .map((s) => (s.cached ? 'H' : 'M'))
    .join('');
}

/** GET a JSON path of the engine's API over its unix socket (for the /layerlab/ routes the CLI never calls). */
export function getJson(socket: string, urlPath: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: urlPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** IDs of the containers the engine holds on disk (its runtime's records), for checks without the container API. */
export async function containersOnDisk(stateDir: string): Promise<string[]> {
  const dir = path.join(stateDir, 'engine', 'containers');
  if (!existsSync(dir)) return [];
  return (await fs.readdir(dir)).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

/** The 12-char IDs printed as ` ---> Running in <id>`. */
export function runningIn(stdout: string): string[] {
  return [...stdout.matchAll(/^ ---> Running in ([0-9a-f]{12})$/gm)].map((m) => m[1]!);
}
