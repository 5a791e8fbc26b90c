/**
 * Issue #5's benchmark: the seed lessons' "COPY package.json, RUN install, COPY ." app with a 20 MB file in
 * the context — cold build, no-change rebuild, one-file-change rebuild — through the real CLI, median of
 * repeated runs, against layerlab and (when one can start) a real dockerd. Run with `npm run bench:build`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDockerd } from '../helpers/dockerd.ts';
import { DOCKER_20, startEngine } from '../helpers/engine.ts';
import { median, row, timeCommand } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const notes: string[] = [];

const DOCKERFILE = `FROM busybox
WORKDIR /app
COPY package.json .
RUN echo "installing dependencies" && mkdir -p node_modules && cp package.json node_modules/installed.json
COPY . .
CMD ["cat", "server.js"]
`;

function makeContext(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-bench-ctx-'));
  writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(path.join(dir, 'package.json'), '{"name":"bench-app","version":"1.0.0"}\n');
  writeFileSync(path.join(dir, 'server.js'), 'console.log("v0")\n');
  writeFileSync(path.join(dir, 'assets.bin'), randomBytes(20 * 1024 * 1024));
  return dir;
}

interface BuildTimes {
  cold: number;
  noChange: number;
  oneFile: number;
}

function measure(socket: string): BuildTimes {
  const env = { PATH: process.env.PATH, HOME: os.tmpdir(), DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0' };
  const cold: number[] = [];
  const noChange: number[] = [];
  const oneFile: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = makeContext();
    const build = () => timeCommand(DOCKER_20, ['build', '-q', '-t', `bench-app:${i}`, ctx], env);
    // Cold: a context the engine has never seen, so every step after FROM runs.
    writeFileSync(path.join(ctx, 'package.json'), `{"name":"bench-app","run":"${i}-${Date.now()}"}\n`);
    cold.push(build());
    noChange.push(build());
    writeFileSync(path.join(ctx, 'server.js'), `console.log("v${i + 1}")\n`);
    oneFile.push(build());
    rmSync(ctx, { recursive: true, force: true });
  }
  return { cold: median(cold), noChange: median(noChange), oneFile: median(oneFile) };
}

const engine = await startEngine('bench-build');
const lines: string[] = [];
try {
  const ours = measure(engine.socket);
  let theirs: BuildTimes | undefined;
  const daemon = await startDockerd({ name: 'bench-build', bridge: true }, (n) => notes.push(n));
  if (daemon) {
    try {
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'layerlab-bench-'));
      const tar = path.join(scratch, 'busybox.tar');
      engine.docker(['save', '-o', tar, 'busybox']);
      timeCommand(DOCKER_20, ['-H', `unix://${daemon.socket}`, 'load', '-i', tar], process.env);
      rmSync(scratch, { recursive: true, force: true });
      theirs = measure(daemon.socket);
    } finally {
      await daemon.stop();
    }
  }
  lines.push(`${''.padEnd(44)}${'layerlab'.padStart(12)}${'dockerd'.padStart(12)}   ratio`);
  lines.push(row(`cold build (median of ${RUNS})`, ours.cold, theirs?.cold, 'ms'));
  lines.push(row('no-change rebuild', ours.noChange, theirs?.noChange, 'ms'));
  lines.push(row('one-file-change rebuild', ours.oneFile, theirs?.oneFile, 'ms'));
} finally {
  await engine.stop();
}
console.log(lines.join('\n'));
for (const n of notes) console.log(`note: ${n}`);
