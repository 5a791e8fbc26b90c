import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../runtime/util/exec.ts';
import { runTool, streamTool, type StreamedTool } from '../../runtime/util/tool-runner.ts';

// Real processes through the real perl runner: what each tool saw and how the runner reported its end.
describe('tool runner', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-tool-runner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes argv verbatim (no shell) and returns stdout and stderr apart', async () => {
    const r = await runTool('sh', ['-c', 'printf "%s|" "$@"; echo oops >&2', 'sh', 'a b', '$HOME', '', "'q'"], { timeoutMs: 5000 });
    expect(r).toMatchObject({ how: 'exited', code: 0 });
    expect(r.stdout.toString()).toBe("a b|$HOME||'q'|");
    expect(r.stderr.toString()).toBe('oops\n');
  });

  it('feeds input to stdin and closes it; without input stdin is /dev/null', async () => {
    const input = Buffer.alloc(3 * 1024 * 1024, 'x'); // larger than a pipe: written as the tool reads
    const r = await runTool('wc', ['-c'], { input, timeoutMs: 10_000 });
    expect(r.stdout.toString().trim()).toBe(String(input.length));
    const none = await runTool('readlink', ['/proc/self/fd/0'], { timeoutMs: 5000 });
    expect(none.stdout.toString().trim()).toBe('/dev/null');
  });

  it('returns large output whole, binary intact', async () => {
    const r = await runTool('head', ['-c', String(5 * 1024 * 1024), '/dev/urandom'], { timeoutMs: 10_000 });
    expect(r.stdout.length).toBe(5 * 1024 * 1024);
  });

  it('reports exit codes, signals and timeouts', async () => {
    expect(await runTool('sh', ['-c', 'exit 3'], { timeoutMs: 5000 })).toMatchObject({ how: 'exited', code: 3 });
    expect(await runTool('sh', ['-c', 'kill -TERM $$'], { timeoutMs: 5000 })).toMatchObject({ how: 'signaled', signal: 15 });
    const started = Date.now();
    expect(await runTool('sleep', ['30'], { timeoutMs: 200 })).toMatchObject({ how: 'timed-out' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('runs in the given directory with exactly the given environment', async () => {
    const r = await runTool('sh', ['-c', 'pwd; env | sort'], { cwd: dir, env: { ONLY: 'this one', PATH: '/usr/bin:/bin' }, timeoutMs: 5000 });
    // dash adds PWD of its own; nothing of the engine's environment is there.
    expect(r.stdout.toString().trim().split('\n')).toEqual([dir, 'ONLY=this one', 'PATH=/usr/bin:/bin', `PWD=${dir}`]);
  });

  it('gives a missing program exit 127 with a message, and refuses NUL bytes before running anything', async () => {
    const r = await runTool('/nonexistent/tool', [], { timeoutMs: 5000 });
    expect(r).toMatchObject({ how: 'exited', code: 127 });
    expect(r.stderr.toString()).toMatch(/nonexistent\/tool: No such file or directory/);
    await expect(runTool('echo', ['a\0b'], { timeoutMs: 5000 })).rejects.toThrow(/NUL/);
    await expect(runTool('echo', [], { env: { A: 'x\0y' }, timeoutMs: 5000 })).rejects.toThrow(/NUL/);
  });

  it('runs many tools at once and matches each reply to its request', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => runTool('sh', ['-c', `sleep 0.0${i % 10}; echo ${i}`], { timeoutMs: 10_000 })));
    expect(results.map((r) => Number(r.stdout.toString()))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('starts a new runner when the old one dies, failing only what it was running', async () => {
    const victim = runTool('sh', ['-c', 'kill -KILL $PPID; sleep 5'], { timeoutMs: 10_000 });
    await expect(victim).rejects.toThrow(/tool runner exited/);
    expect((await runTool('echo', ['again'], { timeoutMs: 5000 })).stdout.toString()).toBe('again\n');
  });

  it('streams a program: plain pipes, output written before the engine opened its ends, stdin, its own session', async () => {
    const collect = (t: StreamedTool) => {
      const chunks: string[] = [];
      t.stdout.on('data', (d: Buffer) => chunks.push(`out:${d}`));
      t.stderr.on('data', (d: Buffer) => chunks.push(`err:${d}`));
      const closed = Promise.all([t.stdout, t.stderr].map((s) => new Promise((r) => s.once('close', r))));
      return async () => (await closed, chunks.join(''));
    };
    // Quick enough to have ended before the engine opens its ends: what it wrote is still there.
    const quick = await streamTool('sh', ['-c', 'echo early; echo oops >&2; exit 5'], { stdin: false });
    const quickOutput = collect(quick);
    expect(await quick.ended).toMatchObject({ how: 'exited', code: 5 });
    expect(await quickOutput()).toMatch(/out:early\n/);
    const fds = await streamTool('sh', ['-c', 'readlink /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; ls /proc/self/fd | wc -l; ps -o sid= -p $$; ps -o sid= -p $PPID'], { stdin: true });
    const fdsOutput = collect(fds);
    fds.stdin!.end();
    await fds.ended;
    const [stdin, stdout, stderr, count, sid, runnerSid] = (await fdsOutput()).replace(/out:/g, '').trim().split('\n').map((l) => l.trim());
    for (const link of [stdin, stdout, stderr]) expect(link).toMatch(/^pipe:\[\d+\]$/);
    expect(count).toBe('4'); // 0, 1, 2 and ls's own directory: nothing leaked from the engine or the runner
    expect(sid).toBe(String(fds.pid));
    expect(runnerSid).not.toBe(sid);
    const cat = await streamTool('cat', [], { stdin: true });
    const catOutput = collect(cat);
    cat.stdin!.end(Buffer.alloc(1024 * 1024, 'z'));
    await cat.ended;
    expect((await catOutput()).replace(/out:/g, '').length).toBe(1024 * 1024);
  });

  it('fails just the program it cannot start (out of descriptors), and goes on', async () => {
    const runner = (await runTool('sh', ['-c', 'echo $PPID'], { timeoutMs: 5000 })).stdout.toString().trim();
    const open = readdirSync(`/proc/${runner}/fd`).length;
    const soft = execFileSync('prlimit', ['--pid', runner, '--nofile', '--raw', '--noheadings', '--output=SOFT']).toString().trim();
    // One descriptor to spare (soft limit only: the hard one cannot be raised back here): not enough for the
    // first pipe a program needs.
    execFileSync('prlimit', ['--pid', runner, `--nofile=${open + 1}:`]);
    try {
      const r = await runTool('true', [], { timeoutMs: 5000 });
      expect(r).toMatchObject({ how: 'exited', code: 127 });
      expect(r.stderr.toString()).toMatch(/true: cannot start: Too many open files/);
      await expect(streamTool('true', [], { stdin: false })).rejects.toThrow(/cannot start: Too many open files/);
    } finally {
      execFileSync('prlimit', ['--pid', runner, `--nofile=${soft}:`]);
    }
    expect((await runTool('echo', ['fine'], { timeoutMs: 5000 })).stdout.toString()).toBe('fine\n');
  });

  it('run() returns stdout, accepts listed exit codes, and names the tool and its stderr on failure', async () => {
    expect(await run('sh', ['-c', 'echo out; exit 1'], { okExitCodes: [1] })).toBe('out\n');
    await expect(run('sh', ['-c', 'echo first >&2; echo why it failed >&2; exit 2'])).rejects.toThrow(/^sh -c echo first.* failed: first why it failed$/);
    await expect(run('sleep', ['5'], { timeoutMs: 100 })).rejects.toThrow(/sleep 5 failed: timed out/);
  });
});
