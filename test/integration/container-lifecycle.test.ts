import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, openTestRuntime, runContainer, type TestRuntime } from './container-helpers.ts';

describe('container lifecycle on runc + overlayfs', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await openTestRuntime('ctr-life');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('reports exit codes 0 and 3 with separate stdout and stderr', async () => {
    const started = performance.now();
    const r = await runContainer(t, ['true']);
    console.log(`create+start+wait for true: ${(performance.now() - started).toFixed(0)} ms`);
    expect(r.code).toBe(0);
    const r2 = await runContainer(t, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r2).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(t.rt.inspect(r2.id).state).toMatchObject({ Status: 'exited', ExitCode: 3, Running: false, OOMKilled: false, Pid: 0 });
  });

  it('writes the json-file log in Docker format, readable after the container is gone', async () => {
    const r = await runContainer(t, ['sh', '-c', 'echo out; echo err >&2; printf no-newline']);
    const lines = (await readFile(t.rt.inspect(r.id).paths.logPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => [l.log, l.stream])).toEqual([
      ['out\n', 'stdout'],
      ['err\n', 'stderr'],
      ['no-newline', 'stdout'],
    ]);
    expect(Object.keys(lines[0]!)).toEqual(['log', 'stream', 'time']);
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('fails start with exit 127 and "executable file not found" for a missing command', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['nosuchcmd'] } });
    await expect(t.rt.start(Id)).rejects.toThrow(/exec: "nosuchcmd": executable file not found in \$PATH/);
    expect(t.rt.inspect(Id).state).toMatchObject({ Status: 'exited', ExitCode: 127 });
    expect(t.rt.inspect(Id).state.Error).toContain('executable file not found');
  });

  it('reports 137 when killed with SIGKILL and forwards SIGTERM to a trapping shell', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while true; do sleep 0.1; done'] } });
    const out = new PassThrough();
    const text = collect(out);
    const handle = t.rt.attach(Id, { stdout: out });
    await t.rt.start(Id);
    await waitForText(t.rt.inspect(Id).paths.logPath, 'ready');
    const exit = t.rt.wait(Id, 'next-exit');
    await t.rt.stop(Id, { timeoutSeconds: 10 });
    expect((await exit).StatusCode).toBe(42);
    await handle.done;
    out.end();
    expect(await text).toBe('ready\ngot-term\n');

    const { Id: id2 } = await t.rt.create({ image: t.image, config: { Cmd: ['sleep', '100'] } });
    await t.rt.start(id2);
    const exit2 = t.rt.wait(id2, 'next-exit');
    await t.rt.kill(id2, 'KILL');
    expect((await exit2).StatusCode).toBe(137);
    expect(t.rt.inspect(id2).state.OOMKilled).toBe(false);
  });

  it('delivers stdin sent before start, then EOF', async () => {
    const r = await runContainer(t, ['sh', '-c', 'cat; echo done'], { stdin: 'line1\nline2\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'line1\nline2\ndone\n' });
  });

  // runc sizes the container's terminal just after its process starts, so the first `stty size` waits a bit.
  it('runs a TTY container: output through the terminal, resize reaches it', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Tty: true, OpenStdin: true, Cmd: ['sh', '-c', 'sleep 0.5; stty size; read x; stty size; tty; exit 5'] } });
    const out = new PassThrough();
    const input = new PassThrough();
    const text = collect(out);
    const handle = t.rt.attach(Id, { stdout: out, stdin: input });
    const exit = t.rt.wait(Id, 'next-exit');
    await t.rt.start(Id, { cols: 80, rows: 24 });
    await waitForText(t.rt.inspect(Id).paths.logPath, '24 80');
    t.rt.resize(Id, 100, 30);
    await new Promise((r) => setTimeout(r, 200));
    input.write('go\r');
    expect((await exit).StatusCode).toBe(5);
    await handle.done;
    out.end();
    const shown = await text;
    expect(shown).toContain('24 80\r\n');
    expect(shown).toContain('30 100\r\n');
    expect(shown).toMatch(/\/dev\/pts\/\d+\r\n/);
  });

  it('resolves users from the image passwd and group files, like Docker', async () => {
    const r = await runContainer(t, ['id'], { config: { User: 'learner' } });
    expect(r.stdout.trim()).toBe('uid=1000(learner) gid=1000(learner) groups=50(staff),1000(learner)');
    const r2 = await runContainer(t, ['id'], { config: { User: '4242:4343' } });
    expect(r2.stdout.trim()).toBe('uid=4242 gid=4343 groups=4343');
    await expect(t.rt.create({ image: t.image, config: { Cmd: ['id'], User: 'nosuchuser' } }).then((c) => t.rt.start(c.Id))).rejects.toThrow(
      'unable to find user nosuchuser: no matching entries in passwd file',
    );
  });

  it('sets hostname, env and working directory as Docker does', async () => {
    const r = await runContainer(t, ['sh', '-c', 'hostname; cat /etc/hostname; pwd; echo "$PATH|$HOSTNAME|$FOO"'], { config: { Env: ['FOO=bar'], WorkingDir: '/new/dir' } });
    const [host, file, pwd, env] = r.stdout.trim().split('\n');
    expect(host).toBe(r.id.slice(0, 12));
    expect(file).toBe(host);
    expect(pwd).toBe('/new/dir');
    expect(env).toBe(`/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|${host}|bar`);
  });

  it('runs exec in a running container with its exit code', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sleep', '100'] } });
    await t.rt.start(Id);
    const p = await t.rt.exec(Id, { cmd: ['sh', '-c', 'echo in-exec; exit 7'] });
    const out = collect(p.stdout);
    expect(await p.exited).toEqual({ exitCode: 7 });
    expect(await out).toBe('in-exec\n');
    const missing = await t.rt.exec(Id, { cmd: ['nosuch'] });
    void collect(missing.stdout);
    void collect(missing.stderr);
    const res = await missing.exited;
    expect(res.exitCode).toBe(127);
    expect(res.error).toContain('executable file not found');
    await t.rt.remove(Id, { force: true });
  });

  it('pauses and unpauses', async () => {
    const { Id } = await t.rt.create({ image: t.image, config: { Cmd: ['sleep', '100'] } });
    await t.rt.start(Id);
    await t.rt.pause(Id);
    expect(t.rt.inspect(Id).state).toMatchObject({ Status: 'paused', Paused: true, Running: true });
    const freezer = await readFile(`/sys/fs/cgroup/freezer${t.rt.inspect(Id).record.CgroupPath}/freezer.state`, 'utf8');
    expect(freezer.trim()).toBe('FROZEN');
    await t.rt.unpause(Id);
    expect(t.rt.inspect(Id).state.Status).toBe('running');
    await t.rt.remove(Id, { force: true });
    expect(() => t.rt.inspect(Id)).toThrow(`No such container: ${Id}`);
  });
});

async function waitForText(file: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await readFile(file, 'utf8').catch(() => '')).includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)} in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
