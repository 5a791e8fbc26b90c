/**
 * Issue #8's benchmark, run with `npm run bench:sandboxes`:
 *  - sandbox create → first prompt: POST /api/session, open the terminal WebSocket, wait for the prompt
 *    (target < 1 s); next to it, a real dockerd's `docker run -it --rm debian:bookworm-slim bash` until its
 *    prompt, when a dockerd can start (the closest thing Docker has: an interactive shell in a new container);
 *  - keystroke echo on localhost: one character over the WebSocket until the shell echoes it (target p50 < 15 ms);
 *  - idle sandboxes on this machine: create them one after another until BENCH_SANDBOXES (default 100), a
 *    failure, or less than 2 GiB of memory left, and report the memory each costs: the drop in MemAvailable
 *    (everything, page cache that cannot be reclaimed included) and the resident memory the server's process
 *    tree grew by (the server, runc and every shell; RSS counts shared pages in each process, so it overstates).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node-pty';
import { DOCKER_20 } from '../helpers/engine.ts';
import { startDockerd } from '../helpers/dockerd.ts';
import { plain, PROMPT, startServer, TestSession, type TestTerminal } from '../helpers/server.ts';
import { median, row, treeRssKiB } from './stats.ts';

const CREATE_RUNS = Number(process.env.BENCH_RUNS ?? 10);
const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 200);
const IDLE_TARGET = Number(process.env.BENCH_SANDBOXES ?? 100);
const MIN_FREE_KIB = 2 * 1024 * 1024;

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const memAvailableKiB = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);

async function newSandbox(url: string): Promise<{ session: TestSession; terminal: TestTerminal; ms: number }> {
  const t0 = performance.now();
  const session = new TestSession({ url });
  await session.open();
  const terminal = await session.terminal();
  await terminal.waitForText(PROMPT, { timeoutMs: 30_000 });
  return { session, terminal, ms: performance.now() - t0 };
}

async function keystrokeEcho(terminal: TestTerminal): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const from = terminal.text.length;
    const t0 = performance.now();
    terminal.type(ch);
    while (!terminal.text.slice(from).includes(ch)) await new Promise((r) => setImmediate(r));
    samples.push(performance.now() - t0);
    if (i % 26 === 25) terminal.type('\x15'); // ctrl-u: clear the line now and then
  }
  terminal.type('\x15');
  return samples;
}

/** dockerd: `docker run -it --rm debian:bookworm-slim bash` in a PTY until bash prints its prompt. */
async function dockerdShell(socket: string): Promise<number> {
  const t0 = performance.now();
  const pty = spawn(DOCKER_20, ['run', '-it', '--rm', 'debian:bookworm-slim', 'bash'], { env: { PATH: process.env.PATH!, HOME: os.tmpdir(), DOCKER_HOST: `unix://${socket}` }, cols: 80, rows: 24 });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      pty.kill();
      reject(new Error(`no prompt: ${plain(out).trim()}`));
    }, 30_000);
    pty.onData((d) => {
      out += d;
      if (/[#$] $/.test(plain(out))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const ms = performance.now() - t0;
  pty.write('exit\r');
  await new Promise((r) => pty.onExit(r));
  return ms;
}

const slots = String(IDLE_TARGET + CREATE_RUNS + 5);
const server = await startServer('bench-sandboxes', ['--max-sandboxes', slots, '--sandboxes-per-client', slots]);
const lines: string[] = [];
const notes: string[] = [];
try {
  await newSandbox(server.url).then(({ session, terminal }) => (terminal.close(), session.fetch('/api/sandbox/reset', { method: 'POST' }))); // warm-up
  const creates: number[] = [];
  let echo: number[] = [];
  for (let i = 0; i < CREATE_RUNS; i++) {
    const { session, terminal, ms } = await newSandbox(server.url);
    creates.push(ms);
    if (i === 0) echo = await keystrokeEcho(terminal);
    terminal.close();
    await session.fetch('/api/sandbox/reset', { method: 'POST' });
  }

  let dockerd: number | undefined;
  const daemon = await startDockerd({ name: 'bench-sandboxes', bridge: true }, (n) => notes.push(n));
  if (daemon) {
    try {
      const tar = path.join(server.stateDir, 'bench-slim.tar');
      const env = { PATH: process.env.PATH!, HOME: os.tmpdir() };
      spawnSync(DOCKER_20, ['save', '-o', tar, 'debian:bookworm-slim'], { env: { ...env, DOCKER_HOST: `unix://${server.stateDir}/engine.sock` } });
      spawnSync(DOCKER_20, ['load', '-i', tar], { env: { ...env, DOCKER_HOST: `unix://${daemon.socket}` } });
      await dockerdShell(daemon.socket); // warm-up
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push(await dockerdShell(daemon.socket));
      dockerd = median(runs);
    } catch (err) {
      notes.push(`dockerd comparison skipped: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await daemon.stop();
    }
  }

  lines.push(`${''.padEnd(44)}${'layerlab'.padStart(12)}${'dockerd'.padStart(12)}   ratio`);
  lines.push(row('sandbox create → first prompt (median)', median(creates), dockerd, 'ms'));
  lines.push(row('sandbox create → first prompt (p90)', percentile(creates, 0.9), undefined, 'ms'));
  lines.push(row('keystroke echo over WebSocket (p50)', percentile(echo, 0.5), undefined, 'ms'));
  lines.push(row('keystroke echo over WebSocket (p99)', percentile(echo, 0.99), undefined, 'ms'));

  const live: TestTerminal[] = [];
  const memBefore = memAvailableKiB();
  const rssBefore = treeRssKiB(server.pid);
  const t0 = performance.now();
  let failure = '';
  while (live.length < IDLE_TARGET) {
    if (memAvailableKiB() < MIN_FREE_KIB) {
      failure = 'stopped: less than 2 GiB of memory left';
      break;
    }
    try {
      const { terminal } = await newSandbox(server.url);
      live.push(terminal);
    } catch (err) {
      failure = `stopped at ${live.length}: ${(err as Error).message.split('\n')[0]}`;
      break;
    }
  }
  await new Promise((r) => setTimeout(r, 3000));
  const eachKiB = (memBefore - memAvailableKiB()) / Math.max(1, live.length);
  const rssEachKiB = (treeRssKiB(server.pid) - rssBefore) / Math.max(1, live.length);
  lines.push(row(`idle sandboxes created (target ${IDLE_TARGET})`, live.length, undefined, ''));
  lines.push(row('memory per idle sandbox: MemAvailable drop', eachKiB / 1024, undefined, 'MiB'));
  lines.push(row('memory per idle sandbox: RSS of server tree', rssEachKiB / 1024, undefined, 'MiB'));
  lines.push(row('time to create them all', (performance.now() - t0) / 1000, undefined, 's'));
  if (failure) notes.push(failure);
  for (const t of live) t.close();
} finally {
  await server.dispose();
}
console.log(`\nlayerlab sandbox benchmark (${os.cpus().length} CPUs, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB)\n`);
console.log(lines.join('\n'));
for (const n of notes) console.log(`note: ${n}`);
