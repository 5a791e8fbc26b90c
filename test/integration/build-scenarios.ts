import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DockerResult } from '../helpers/engine.ts';
import { cachePattern, writeContext } from './build-helpers.ts';

/** ARG first, then COPY/RUN pairs: the shape that shows every classic cache rule (builder-facts §2). */
export const CACHE_DOCKERFILE = `FROM busybox
ARG V=1
COPY a.txt /app/
RUN echo "a says $(cat /app/a.txt)"
COPY b.txt /app/
RUN echo "v=$V" > /app/v
ENV DONE=1
`;

export interface Scenario {
  name: string;
  /** Change the context before the build. */
  prepare(dir: string): Promise<void>;
  /** Extra `docker build` flags. */
  flags: string[];
  /** Docker 20.10's hit/miss pattern for the steps after FROM (H = Using cache, M = ran). */
  expected: string;
}

/** The cache scenarios, in order (each builds on the state the previous one left). */
export const SCENARIOS: Scenario[] = [
  { name: 'first build', prepare: async () => undefined, flags: [], expected: 'MMMMMM' },
  { name: 'no change', prepare: async () => undefined, flags: [], expected: 'HHHHHH' },
  { name: 'touch (mtime only)', prepare: (d) => touch(path.join(d, 'a.txt')), flags: [], expected: 'HHHHHH' },
  { name: 'chmod a.txt', prepare: (d) => fs.chmod(path.join(d, 'a.txt'), 0o755), flags: [], expected: 'HMMMMM' },
  { name: 'edit b.txt', prepare: (d) => fs.writeFile(path.join(d, 'b.txt'), 'b two\n'), flags: [], expected: 'HHHMMM' },
  { name: 'build-arg change', prepare: async () => undefined, flags: ['--build-arg', 'V=2'], expected: 'HHMMMM' },
  { name: 'same build-arg again', prepare: async () => undefined, flags: ['--build-arg', 'V=2'], expected: 'HHHHHH' },
  { name: '--no-cache', prepare: async () => undefined, flags: ['--no-cache'], expected: 'MMMMMM' },
];

async function touch(file: string): Promise<void> {
  const later = new Date(Date.now() + 60_000);
  await fs.utimes(file, later, later);
}

/** Run every scenario in a fresh context with a docker CLI; returns each build's pattern by scenario name. */
export async function runScenarios(docker: (args: string[]) => DockerResult, dir: string, tag: string): Promise<Map<string, { pattern: string; result: DockerResult }>> {
  await writeContext(dir, { Dockerfile: CACHE_DOCKERFILE, 'a.txt': 'a one\n', 'b.txt': 'b one\n' });
  const out = new Map<string, { pattern: string; result: DockerResult }>();
  for (const s of SCENARIOS) {
    await s.prepare(dir);
    const result = docker(['build', ...s.flags, '-t', tag, dir]);
    if (result.code !== 0) throw new Error(`${s.name}: build failed (${result.code}): ${result.stderr}`);
    out.set(s.name, { pattern: cachePattern(result.stdout), result });
  }
  return out;
}
