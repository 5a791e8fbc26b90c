/** `--restart` policies through the real CLI, including across an engine restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, waitFor, type TestEngine } from '../helpers/engine.ts';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startEngine('restart');
});
afterAll(async () => engine?.stop());

const inspect = (name: string, format: string) => engine.docker(['inspect', '-f', format, name]).stdout.trim();

describe('restart policies', () => {
  it('on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    expect(engine.docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3']).code).toBe(0);
    await waitFor(() => inspect('flaky', '{{.RestartCount}} {{.State.Status}}') === '2 exited', 20_000);
    expect(inspect('flaky', '{{.State.ExitCode}}')).toBe('3');
    expect(engine.docker(['logs', 'flaky']).stdout).toBe('run\nrun\nrun\n');
  });

  it('on-failure does not restart a container that succeeded', async () => {
    expect(engine.docker(['run', '--name', 'fine', '--restart', 'on-failure', 'busybox', 'true']).code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(inspect('fine', '{{.RestartCount}} {{.State.Status}}')).toBe('0 exited');
  });

  it('always restarts until docker stop, which it respects', async () => {
    expect(engine.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']).code).toBe(0);
    await waitFor(() => Number(inspect('always', '{{.RestartCount}}')) >= 2, 20_000);
    expect(engine.docker(['stop', '-t', '1', 'always']).code).toBe(0);
    const count = inspect('always', '{{.RestartCount}}');
    await new Promise((r) => setTimeout(r, 1500));
    expect(inspect('always', '{{.State.Status}} {{.RestartCount}}')).toBe(`exited ${count}`);
  });

  it('refuses policies dockerd refuses, with its words', () => {
    const bad = engine.docker(['run', '--restart', 'always:3', 'busybox', 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("maximum retry count cannot be used with restart policy 'always'");
  });

  it('brings unless-stopped containers back after an engine restart, but not stopped ones', async () => {
    expect(engine.docker(['run', '-d', '--name', 'keeper', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']).code).toBe(0);
    expect(engine.docker(['run', '-d', '--name', 'stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']).code).toBe(0);
    expect(engine.docker(['stop', '-t', '1', 'stopped']).code).toBe(0);
    await engine.restart();
    await waitFor(() => inspect('keeper', '{{.State.Status}}') === 'running', 20_000);
    expect(inspect('stopped', '{{.State.Status}}')).toBe('exited');
    expect(engine.docker(['rm', '-f', 'keeper', 'stopped']).code).toBe(0);
  });
});
