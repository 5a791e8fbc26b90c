import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_20, startEngine, waitFor, type TestEngine } from '../helpers/engine.ts';

/** `docker events` through Debian's docker 20.10 CLI: a live stream, filters, and replay with --since/--until. */
describe('docker events through the CLI', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startEngine('cli-events');
  });

  afterAll(async () => {
    await engine?.stop();
  });

  /** Run `docker events` in the background, collecting its lines. */
  function follow(args: string[]) {
    const child = spawn(DOCKER_20, ['events', ...args], { env: { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: path.join(engine.stateDir, 'docker-config') } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return { lines: () => out.split('\n').filter(Boolean), stop: () => child.kill() };
  }

  it('streams create, start, die and destroy for a run --rm, in Docker\'s format', async () => {
    const events = follow(['--filter', 'type=container', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
    await new Promise((r) => setTimeout(r, 500));
    const run = engine.docker(['run', '--rm', '--name', 'evrun', 'busybox', 'sh', '-c', 'exit 3']);
    expect(run.code).toBe(3);
    await waitFor(() => events.lines().some((l) => l.includes('destroy')), 10_000);
    events.stop();
    const lines = events.lines().filter((l) => l.includes('evrun'));
    const actions = lines.map((l) => l.split(' ')[1]);
    for (const a of ['create', 'start', 'die', 'destroy']) expect(actions).toContain(a);
    expect(actions.indexOf('create')).toBeLessThan(actions.indexOf('start'));
    expect(actions.indexOf('die')).toBeLessThan(actions.indexOf('destroy'));
    expect(lines.find((l) => l.includes(' die '))).toBe('container die evrun 3');
  });

  it('replays the past with --since/--until and filters by event and type', () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    expect(engine.docker(['volume', 'create', 'evvol']).code).toBe(0);
    expect(engine.docker(['network', 'create', 'evnet']).code).toBe(0);
    expect(engine.docker(['network', 'rm', 'evnet']).code).toBe(0);
    const until = Math.floor(Date.now() / 1000) + 1;
    const all = engine.docker(['events', '--since', String(since), '--until', String(until)], { timeoutMs: 10_000 });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z volume create evvol \(driver=local\)$/m);
    expect(all.stdout).toMatch(/ network create [0-9a-f]{64} \(name=evnet, type=bridge\)$/m);
    const filtered = engine.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'type=network', '--filter', 'event=destroy', '--format', '{{.Actor.Attributes.name}}'], { timeoutMs: 10_000 });
    expect(filtered.stdout).toBe('evnet\n');
  });
});
