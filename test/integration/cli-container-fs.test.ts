import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, promises as fs, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../helpers/engine.ts';

/** docker cp, diff, commit, export, top and stats through Debian's docker 20.10 CLI, on real runc. */
describe('container files and processes through the CLI', () => {
  let engine: TestEngine;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-cfs-'));
    engine = await startEngine('cli-container-fs');
    ok(['run', '-d', '--name', 'box', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo hello > /data/f.txt && echo deep > /data/sub/g && ln -s /data/f.txt /link && sleep 600']);
  });

  afterAll(async () => {
    engine?.docker(['rm', '-f', 'box', 'racer', 'changed', 'fromcommit']);
    await engine?.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  function ok(args: string[]): string {
    const r = engine.docker(args);
    expect(r.stderr, `docker ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  it('copies a file and a directory out of a running container', () => {
    ok(['cp', 'box:/data/f.txt', path.join(work, 'f.txt')]);
    expect(readFileSync(path.join(work, 'f.txt'), 'utf8')).toBe('hello\n');
    ok(['cp', 'box:/data', path.join(work, 'data')]);
    expect(readFileSync(path.join(work, 'data/sub/g'), 'utf8')).toBe('deep\n');
    const tar = spawnSync('tar', ['-tf', '-'], { input: engine.docker(['cp', 'box:/data/f.txt', '-']).stdout, encoding: 'utf8' });
    expect(tar.stdout).toBe('f.txt\n');
    ok(['cp', 'box:/link', path.join(work, 'link')]);
    expect(readlinkSync(path.join(work, 'link'))).toBe('/data/f.txt');
    ok(['cp', '-L', 'box:/link', path.join(work, 'followed')]);
    expect(readFileSync(path.join(work, 'followed'), 'utf8')).toBe('hello\n');
    ok(['cp', 'box:/data/.', path.join(work, 'contents')]);
    expect(readFileSync(path.join(work, 'contents/sub/g'), 'utf8')).toBe('deep\n');
    ok(['cp', 'box:/', path.join(work, 'root')]);
    expect(readFileSync(path.join(work, 'root/data/f.txt'), 'utf8')).toBe('hello\n');
    expect(existsSync(path.join(work, 'root/bin/busybox'))).toBe(true);
  });

  it('copies a file and a directory into a container, and renames on the way', () => {
    writeFileSync(path.join(work, 'in.txt'), 'to the container\n');
    mkdirSync(path.join(work, 'indir/nested'), { recursive: true });
    writeFileSync(path.join(work, 'indir/nested/x'), 'x\n');
    ok(['cp', path.join(work, 'in.txt'), 'box:/tmp/']);
    ok(['cp', path.join(work, 'in.txt'), 'box:/tmp/renamed.txt']);
    ok(['cp', path.join(work, 'indir'), 'box:/tmp/']);
    expect(ok(['exec', 'box', 'cat', '/tmp/in.txt', '/tmp/renamed.txt', '/tmp/indir/nested/x'])).toBe('to the container\nto the container\nx\n');
    expect(ok(['exec', 'box', 'stat', '-c', '%u:%g', '/tmp/in.txt'])).toBe('0:0\n');
  });

  it('reports a missing path as Docker does', () => {
    const out = engine.docker(['cp', 'box:/nonexist', work]);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('Error: No such container:path: box:/nonexist\n');
    const into = engine.docker(['cp', path.join(work, 'in.txt'), 'box:/nonexist/dir/']);
    expect(into.code).toBe(1);
    // The CLI's own text when the HEAD of a destination directory is a 404.
    expect(into.stderr).toBe('no such directory\n');
  });

  it('never reads or writes outside the container while it swaps a path component for a symlink to /', () => {
    const sentinelDir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-sentinel-'));
    const sentinel = path.join(sentinelDir, 'secret');
    writeFileSync(sentinel, 'HOST SECRET\n');
    // The container flips /swap between a real directory (holding a decoy at the sentinel's path) and a link
    // to /: a copy that followed the link on the host would read or write the host's sentinel directory. Each
    // state lasts about as long as one copy takes, so swaps land in the middle of copies.
    const script = `while true; do rm -rf /swap; mkdir -p /swap${sentinelDir}; echo decoy > /swap${sentinel}; usleep 20000; rm -rf /swap; ln -s / /swap; usleep 20000; done`;
    ok(['run', '-d', '--name', 'racer', 'busybox', 'sh', '-c', script]);
    try {
      race(sentinelDir, sentinel);
    } finally {
      engine.docker(['rm', '-f', 'racer']);
      rmSync(sentinelDir);
    }
  }, 60_000);

  function race(sentinelDir: string, sentinel: string): void {
    writeFileSync(path.join(work, 'evil'), 'WRITTEN BY CP\n');
    const deadline = Date.now() + 8000;
    let copiedOut = 0;
    while (Date.now() < deadline) {
      const out = engine.docker(['cp', `racer:/swap${sentinel}`, '-']);
      if (out.code === 0) {
        copiedOut++;
        expect(out.stdout).not.toContain('HOST SECRET');
      }
      engine.docker(['cp', path.join(work, 'evil'), `racer:/swap${sentinelDir}/`]);
      const dirOut = engine.docker(['cp', 'racer:/swap/', '-']);
      expect(dirOut.stdout).not.toContain('HOST SECRET');
    }
    expect(readFileSync(sentinel, 'utf8')).toBe('HOST SECRET\n');
    expect(existsSync(path.join(sentinelDir, 'evil'))).toBe(false);
    // The race was real: some copies found the decoy through the directory.
    expect(copiedOut).toBeGreaterThan(0);
  }

  it('refuses to walk a tree deeper than the engine allows, and stays healthy', () => {
    ok(['exec', 'box', 'sh', '-c', 'd=/deep; for i in $(seq 300); do d=$d/d; done; mkdir -p $d']);
    const out = engine.docker(['cp', 'box:/deep', '-']);
    expect(out.code).not.toBe(0);
    const diff = engine.docker(['diff', 'box']);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toContain('nested more than 256 levels deep');
    ok(['exec', 'box', 'rm', '-rf', '/deep']);
    expect(ok(['diff', 'box'])).toContain('A /data');
  });

  it('shows changes against the image with docker diff, without the init layer', () => {
    ok(['run', '--name', 'changed', 'busybox', 'sh', '-c', 'echo new > /newfile; echo more >> /etc/passwd; rm /bin/ls; mkdir -p /tmp/x/y; touch /tmp/x/y/z']);
    const lines = ok(['diff', 'changed']).trim().split('\n').sort();
    expect(lines).toEqual(['A /newfile', 'A /tmp/x', 'A /tmp/x/y', 'A /tmp/x/y/z', 'C /bin', 'C /etc', 'C /etc/passwd', 'C /tmp', 'D /bin/ls'].sort());
  });

  it('reports what a deleted-and-recreated directory hides (an opaque dir) as deleted', () => {
    const build = engine.docker(['build', '-q', '-t', 'opqimg', '-'], { input: 'FROM busybox\nRUN mkdir -p /opq/a /opq/b && touch /opq/a/f /opq/keep\n' });
    expect(build.code).toBe(0);
    ok(['run', '--name', 'opaque', 'opqimg', 'sh', '-c', 'rm -rf /opq && mkdir /opq && touch /opq/new /opq/keep']);
    const lines = ok(['diff', 'opaque']).trim().split('\n').sort();
    expect(lines).toEqual(['A /opq/new', 'C /opq', 'C /opq/keep', 'D /opq/a', 'D /opq/b']);
    ok(['rm', 'opaque']);
  });

  it('commits a container into an image that runs, with -c, -m and -a', () => {
    const id = ok(['commit', '-m', 'my change', '-a', 'learner', '-c', 'ENV COMMITTED=yes', '-c', 'CMD ["cat", "/newfile"]', 'changed', 'committed:v1']).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ok(['run', '--rm', 'committed:v1'])).toBe('new\n');
    expect(ok(['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $COMMITTED; ls /bin/ls 2>&1 || true'])).toMatch(/^yes\n.*No such file/s);
    const history = ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:v1']).split('\n')[0];
    expect(history).toBe('sh -c echo new > /newfile; echo more >> /etc/passwd; rm /bin/ls; mkdir -p /tmp/x/y; touch /tmp/x/y/z|my change');
    expect(ok(['inspect', '-f', '{{.Author}} {{.Comment}}', 'committed:v1'])).toBe('learner my change\n');
  });

  it('exports the merged filesystem', () => {
    const tarFile = path.join(work, 'export.tar');
    const r = engine.docker(['export', '-o', tarFile, 'changed']);
    expect(r.code).toBe(0);
    const names = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
    expect(names).toContain('newfile');
    expect(names).toContain('.dockerenv');
    expect(names).toContain('bin/');
    expect(names).not.toContain('bin/ls');
    const content = spawnSync('tar', ['-xOf', tarFile, 'newfile'], { encoding: 'utf8' }).stdout;
    expect(content).toBe('new\n');
  });

  it('copies in and out of a stopped container, through its overlay mounted for the copy', () => {
    ok(['cp', 'changed:/newfile', path.join(work, 'newfile')]);
    expect(readFileSync(path.join(work, 'newfile'), 'utf8')).toBe('new\n');
    ok(['cp', path.join(work, 'in.txt'), 'changed:/in.txt']);
    expect(ok(['diff', 'changed'])).toMatch(/^A \/in\.txt$/m);
    ok(['cp', 'changed:/in.txt', path.join(work, 'back.txt')]);
    expect(readFileSync(path.join(work, 'back.txt'), 'utf8')).toBe('to the container\n');
  });

  it('lists the container\'s processes with docker top, using the host\'s ps', () => {
    const out = ok(['top', 'box']);
    expect(out.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(out).toContain('sleep 600');
    expect(out).not.toContain('vitest');
    const custom = ok(['top', 'box', '-o', 'pid,comm']);
    expect(custom).toMatch(/^PID\s+COMMAND\n/);
    expect(custom).toMatch(/\bsleep\b/);
  });

  it('prints one stats row within the CLI\'s budget', () => {
    const started = Date.now();
    const out = ok(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'box']);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out).toMatch(/^box [\d.]+[KMG]?i?B \/ [\d.]+[KMG]iB \d+\n$/);
    const all = ok(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}}']);
    expect(all).toMatch(/^box [\d.]+%\n$/);
  });

  it('streams stats about once a second with stream=1, each with the previous sample as precpu', async () => {
    const objects = await new Promise<Array<{ read: string; preread: string; pids_stats: { current: number } }>>((resolve, reject) => {
      const got: Array<{ read: string; preread: string; pids_stats: { current: number } }> = [];
      const req = http.get({ socketPath: engine.socket, path: '/v1.41/containers/box/stats?stream=1' }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) if (l) got.push(JSON.parse(l) as (typeof got)[number]);
          if (got.length >= 2) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on('error', (err) => (got.length >= 2 ? undefined : reject(err)));
      setTimeout(() => reject(new Error(`only ${got.length} objects in 4 s`)), 4000);
    });
    expect(objects[0]!.preread).toBe('0001-01-01T00:00:00Z');
    expect(objects[1]!.preread).toBe(objects[0]!.read);
    expect(objects[1]!.pids_stats.current).toBeGreaterThanOrEqual(1);
  });
});

function rmSync(dir: string): void {
  spawnSync('rm', ['-rf', dir]);
}
