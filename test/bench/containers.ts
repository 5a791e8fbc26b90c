/**
 * Issue #4's benchmark: `docker run --rm busybox true` through the real CLI, median of repeated runs,
 * against layerlab and (when one can start) a real dockerd with its default bridge network; and the
 * memory each idle running container costs. Run with `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_20, startEngine } from '../helpers/engine.ts';
import { startDockerd } from '../helpers/dockerd.ts';
import { median, row, timeCommand, treeRssKiB } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const IDLE = Number(process.env.BENCH_IDLE ?? 10);
const notes: string[] = [];

function runTrue(socket: string): number[] {
  const env = { PATH: process.env.PATH, DOCKER_HOST: `unix://${socket}`, HOME: os.tmpdir() };
  for (let i = 0; i < 3; i++) timeCommand(DOCKER_20, ['run', '--rm', 'busybox', 'true'], env); // warm-up
  return Array.from({ length: RUNS }, () => timeCommand(DOCKER_20, ['run', '--rm', 'busybox', 'true'], env));
}

function docker(socket: string, args: string[]): string {
  const out = spawnSync(DOCKER_20, args, { env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${socket}`, HOME: os.tmpdir() }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`docker ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

/** KiB of resident memory per idle `sleep` container, measured on `rssOf()` before and after. */
async function idleCost(socket: string, rssOf: () => number): Promise<number> {
  const before = rssOf();
  const ids = Array.from({ length: IDLE }, () => docker(socket, ['run', '-d', 'busybox', 'sleep', '600']).trim());
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssOf();
  docker(socket, ['rm', '-f', ...ids]);
  return (after - before) / IDLE;
}

/** dockerd's cost lives in dockerd, containerd and one shim per container. */
function dockerdRss(): number {
  const out = spawnSync('ps', ['-e', '-o', 'rss=,comm='], { encoding: 'utf8' }).stdout;
  return out.trim().split('\n').map((l) => l.trim().split(/\s+/)).filter(([, c]) => /^(dockerd|containerd|containerd-shim)/.test(c ?? '')).reduce((s, [k]) => s + Number(k), 0);
}

const engine = await startEngine('bench');
const lines: string[] = [];
try {
  const layerlabRun = median(runTrue(engine.socket));
  const layerlabIdle = await idleCost(engine.socket, () => treeRssKiB(engine.pid));
  let dockerRun: number | undefined;
  let dockerIdle: number | undefined;
  const daemon = await startDockerd({ name: 'bench', bridge: true }, (n) => notes.push(n));
  if (daemon) {
    try {
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'layerlab-bench-'));
      const tar = path.join(scratch, 'busybox.tar');
      docker(engine.socket, ['save', 'busybox', '-o', tar]);
      docker(daemon.socket, ['load', '-i', tar]);
      rmSync(scratch, { recursive: true, force: true });
      dockerRun = median(runTrue(daemon.socket));
      dockerIdle = await idleCost(daemon.socket, dockerdRss);
    } finally {
      await daemon.stop();
    }
  }
  lines.push(`${''.padEnd(44)}${'layerlab'.padStart(12)}${'dockerd'.padStart(12)}   ratio`);
  lines.push(row(`docker run --rm busybox true (median of ${RUNS})`, layerlabRun, dockerRun, 'ms'));
  lines.push(row(`memory per idle running container (${IDLE})`, layerlabIdle / 1024, dockerIdle === undefined ? undefined : dockerIdle / 1024, 'MiB'));
} finally {
  await engine.stop();
}
console.log(lines.join('\n'));
for (const n of notes) console.log(`note: ${n}`);
