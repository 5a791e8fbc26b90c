import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupParent } from '../../runtime/container/cgroups.ts';
import type { ShellOptions, ShellProcess } from '../../runtime/index.ts';
import { openSandbox, until, WORKSPACE_PATH, type TestSandbox } from './sandbox-helpers.ts';

/** A terminal reader: everything the shell printed since `mark`. */
function terminal(shell: ShellProcess) {
  let out = '';
  shell.onData((chunk) => (out += chunk.toString()));
  return {
    text: () => out,
    /** Type a line and wait until `expected` shows up after it. */
    async run(line: string, expected: string | RegExp, ms = 10_000): Promise<string> {
      const from = out.length;
      shell.write(`${line}\r`);
      const seen = () => (typeof expected === 'string' ? out.slice(from).includes(expected) : expected.test(out.slice(from)));
      if (!(await until(seen, ms))) throw new Error(`no ${String(expected)} after ${line}; terminal shows: ${out.slice(from)}`);
      return out.slice(from);
    },
  };
}

describe('the shell container', () => {
  let sb: TestSandbox;
  let opts: ShellOptions;
  beforeAll(async () => {
    sb = await openSandbox('shell', { limits: { maxContainers: 1 } });
    opts = {
      image: 'busybox',
      cmd: ['sh'],
      env: ['PS1=learner$ '],
      workingDir: WORKSPACE_PATH,
      hostname: 'sandbox',
      binds: [{ source: sb.workspace, destination: WORKSPACE_PATH, readOnly: false }],
      cols: 100,
      rows: 30,
      memoryBytes: 96 * 1024 * 1024,
      pidsLimit: 64,
    };
  }, 60_000);
  afterAll(async () => {
    await sb?.destroy();
  });

  it('is a terminal in the workspace with its own limits, and resizes', async () => {
    const shell = await sb.engine.startShell(opts);
    const term = terminal(shell);
    await until(() => term.text().includes('learner$ '));
    expect(await term.run('echo $((6*7)) $(hostname) $(pwd)', '42 sandbox /workspace')).toBeTruthy();
    await term.run('echo typed > made-in-shell', 'learner$ ');
    expect(readFileSync(path.join(sb.workspace, 'made-in-shell'), 'utf8')).toBe('typed\n');
    shell.resize(120, 40);
    expect(await term.run('stty size', '40 120')).toBeTruthy();
    const cg = path.join('/sys/fs/cgroup', 'memory', cgroupParent(path.join(sb.stateDir, 'engine')), shell.id);
    expect(readFileSync(path.join(cg, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(96 * 1024 * 1024));
    expect(readFileSync(path.join(cg.replace('/memory/', '/pids/'), 'pids.max'), 'utf8').trim()).toBe('64');
    shell.write('exit 3\r');
    expect(await shell.exited).toBe(3);
    expect(existsSync(cg)).toBe(false);
    expect(readdirSync(path.join(sb.stateDir, 'engine', 'system'))).toEqual([]);
  });

  it('is hidden from the Engine API and from the container quota', async () => {
    const shell = await sb.engine.startShell(opts);
    const term = terminal(shell);
    const events: string[] = [];
    const stop = sb.engine.events.subscribe((e) => events.push(`${e.Action} ${e.Actor.ID}`));
    expect((await sb.docker(['ps', '-aq', '--no-trunc'])).stdout).toBe('');
    for (const args of [['inspect', shell.id], ['kill', shell.id], ['rm', shell.id], ['exec', shell.id, 'true'], ['logs', shell.id]]) {
      const r = await sb.docker(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/No such (container|object)/);
    }
    // `rm -f` says nothing about a missing container (as dockerd): the shell must simply live on.
    await sb.docker(['rm', '-f', shell.id]);
    expect(await term.run('echo still-here', 'still-here')).toBeTruthy();
    // maxContainers is 1: the learner still gets their one container while the shell runs.
    const created = await sb.docker(['create', '--name', 'only', 'busybox', 'true']);
    expect(created.stderr).toBe('');
    await sb.docker(['rm', 'only']);
    await shell.kill();
    expect(await shell.exited).toBe(137);
    stop();
    expect(events.filter((e) => e.includes(shell.id))).toEqual([]);
    expect(sb.engine.events.recent().filter((e) => e.Actor.ID === shell.id)).toEqual([]);
  });

  it("shares the sandbox's host netns: localhost reaches published ports, which the engine lists", async () => {
    const starts: string[] = [];
    const stop = sb.engine.events.subscribe((e) => {
      if (e.Type === 'container' && e.Action === 'start') starts.push(e.Actor.Attributes.name ?? '');
    });
    const web = await sb.docker(['run', '-d', '--name', 'web', '-p', '18080:80', 'busybox', 'sh', '-c', 'mkdir /www && echo hello-port > /www/index.html && exec httpd -f -p 80 -h /www']);
    expect(web.stderr).toBe('');
    stop();
    expect(starts).toEqual(['web']);
    expect(sb.engine.publishedPorts()).toEqual([{ hostPort: 18080, containerPort: 80, protocol: 'tcp', containerName: 'web' }]);
    const shell = await sb.engine.startShell(opts);
    const term = terminal(shell);
    expect(await term.run('wget -qO- http://localhost:18080/', 'hello-port')).toBeTruthy();
    await shell.kill();
    await sb.docker(['rm', '-f', 'web']);
    expect(sb.engine.publishedPorts()).toEqual([]);
  });

  it('refuses an image it cannot find', async () => {
    await expect(sb.engine.startShell({ ...opts, image: 'no-such-shell' })).rejects.toThrow('No such image: no-such-shell');
  });
});
