import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_28, startEngine, type TestEngine } from '../helpers/engine.ts';
import { PtyDocker } from './cli-containers-pty.ts';

/**
 * The container commands through a current docker CLI (28.x), which negotiates API 1.41 down from its own:
 * run modes, exit codes, stdin before start, logs -f, exec codes, a TTY session with detach.
 */
let engine: TestEngine;
const docker = (args: string[], input?: string) => engine.docker(args, { cli: DOCKER_28!, ...(input === undefined ? {} : { input }) });
const ok = (...args: string[]) => {
  const r = docker(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout;
};

beforeAll(async () => {
  if (!DOCKER_28) throw new Error('no docker 28 CLI on this machine');
  engine = await startEngine('cli-containers-28');
});
afterAll(async () => {
  await engine?.stop();
});

describe('docker 28 CLI', () => {
  it('runs hello-world, exit codes, piped stdin and a missing command', () => {
    expect(ok('run', '--rm', 'hello-world')).toContain('Hello from layerlab!');
    expect(docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(docker(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n')).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    const r = docker(['run', '--rm', 'busybox', 'nosuchcommand']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('executable file not found in $PATH');
  });

  it('follows logs of a detached container until it stops, and execs with exit codes', () => {
    ok('run', '-d', '--name', 'd28', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two');
    expect(docker(['logs', '-f', 'd28'])).toEqual({ code: 0, stdout: 'one\ntwo\n', stderr: '' });
    ok('rm', 'd28');
    ok('run', '-d', '--name', 'e28', 'busybox', 'sleep', '300');
    expect(docker(['exec', 'e28', 'sh', '-c', 'echo in; exit 7'])).toEqual({ code: 7, stdout: 'in\n', stderr: '' });
    expect(ok('exec', '-e', 'X=2', '-w', '/tmp', 'e28', 'sh', '-c', 'echo $X $(pwd)')).toBe('2 /tmp\n');
    expect(ok('kill', 'e28')).toBe('e28\n');
    expect(ok('wait', 'e28')).toBe('137\n');
    expect(ok('ps', '-a', '--filter', 'name=e28', '--format', '{{.State}} {{.Status}}')).toMatch(/^exited Exited \(137\) /);
    ok('rm', 'e28');
  });

  it('runs -it on a terminal and detaches with ctrl-p ctrl-q', async () => {
    const run = new PtyDocker(engine, ['run', '-it', '--name', 't28', 'busybox', 'sh'], DOCKER_28);
    try {
      await run.expect('# ');
      run.write('echo $((7*6))\r');
      await run.expect('42');
      run.write('\x10\x11');
      expect(await run.exited()).toBe(0);
    } finally {
      run.kill();
    }
    expect(ok('inspect', '-f', '{{.State.Running}}', 't28')).toBe('true\n');
    ok('rm', '-f', 't28');
  });
});
