import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_20, startEngine, waitFor, type TestEngine } from '../helpers/engine.ts';
import { PtyDocker } from './cli-containers-pty.ts';

/**
 * Containers through the real docker 20.10 CLI against a real engine (runc, overlayfs, the catalog's busybox
 * and hello-world): run in all its modes, exit codes, stdin, logs, exec, lifecycle commands, ps and inspect,
 * published ports, refusals and Docker's error texts.
 */
let engine: TestEngine;
const docker = (args: string[], input?: string) => engine.docker(args, input === undefined ? {} : { input });
const ok = (...args: string[]) => {
  const r = docker(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout;
};
const inspect = (name: string, format: string) => ok('inspect', '-f', format, name).trim();

beforeAll(async () => {
  engine = await startEngine('cli-containers');
});
afterAll(async () => {
  await engine?.stop();
});

describe('docker run', () => {
  it('runs hello-world and removes it with --rm', () => {
    const out = ok('run', '--rm', '--name', 'hello-rm', 'hello-world');
    expect(out).toContain('Hello from layerlab!');
    expect(ok('ps', '-a', '-q', '--filter', 'name=hello-rm')).toBe('');
  });

  it('returns the exit code and keeps stdout and stderr apart', () => {
    const r = docker(['run', '--name', 'exit3', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(inspect('exit3', '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 3');
    expect(ok('ps', '-a', '--filter', 'name=exit3', '--format', '{{.Status}}')).toMatch(/^Exited \(3\) (Less than a second|\d+ seconds?) ago\n$/);
    ok('rm', 'exit3');
  });

  it('reports a missing command with rc 127 and removes the --rm container', () => {
    const r = docker(['run', '--rm', '--name', 'nocmd', 'busybox', 'nosuchcommand']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('docker: Error response from daemon: failed to create shim task: OCI runtime create failed:');
    expect(r.stderr).toContain('exec: "nosuchcommand": executable file not found in $PATH: unknown.');
    expect(ok('ps', '-a', '-q', '--filter', 'name=nocmd')).toBe('');
  });

  it('passes piped stdin (sent before start) and its EOF to the container', () => {
    expect(docker(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\nthere\n')).toEqual({ code: 0, stdout: 'hi\nthere\n', stderr: '' });
    expect(docker(['run', '-i', '--rm', 'busybox', 'wc', '-l'], 'a\nb\nc\n').stdout.trim()).toBe('3');
  });

  it('keeps output when the container writes after the client closed its side', () => {
    const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 1; echo late']);
    expect(r).toEqual({ code: 0, stdout: 'late\n', stderr: '' });
  });

  it('refuses escapes with clear messages (rc 125)', () => {
    for (const [flag, text] of [
      [['--privileged'], '--privileged is not allowed in layerlab'],
      [['--cap-add', 'SYS_ADMIN'], 'SYS_ADMIN'],
      [['--net=host'], 'host'],
    ] as const) {
      const r = docker(['run', '--rm', ...flag, 'busybox', 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^docker: Error response from daemon: .+\.\nSee 'docker run --help'\.\n$/);
      expect(r.stderr).toContain(text);
    }
    expect(ok('ps', '-a', '-q')).toBe('');
  });

  it('gives Docker\'s conflict text for a name in use', () => {
    const id = ok('create', '--name', 'taken', 'busybox', 'true').trim();
    const text = `Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
    expect(docker(['create', '--name', 'taken', 'busybox', 'true'])).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: ${text}\n` });
    const r = docker(['run', '--name', 'taken', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`);
    ok('rm', 'taken');
  });
});

describe('a detached container', () => {
  it('runs, lists, logs, stops, starts, restarts, renames, pauses and is removed', () => {
    const id = ok('run', '-d', '--name', 'det', '--label', 'role=test', 'busybox', 'sh', '-c', 'echo started; echo oops >&2; trap "exit 0" TERM; while true; do sleep 0.2; done').trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(ok('ps', '--format', '{{.ID}} {{.Names}} {{.Command}} {{.Status}}', '--filter', 'label=role=test')).toMatch(/^[0-9a-f]{12} det "sh -c 'echo started…" Up (Less than a second|\d+ seconds?)\n$/);
    expect(inspect('det', '{{.Name}} {{.State.Running}} {{.Config.Hostname}} {{.HostConfig.LogConfig.Type}} {{.HostConfig.NetworkMode}}')).toBe(`/det true ${id.slice(0, 12)} json-file default`);
    waitForLogs('det', 'started\n');
    expect(docker(['logs', 'det'])).toEqual({ code: 0, stdout: 'started\n', stderr: 'oops\n' });
    expect(docker(['logs', '-t', 'det']).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n$/);
    expect(docker(['rm', 'det'])).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove\n` });
    expect(ok('pause', 'det')).toBe('det\n');
    expect(ok('ps', '--filter', 'name=det', '--format', '{{.Status}}')).toMatch(/\(Paused\)\n$/);
    expect(ok('unpause', 'det')).toBe('det\n');
    expect(ok('stop', 'det')).toBe('det\n');
    expect(inspect('det', '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 0');
    expect(ok('stop', 'det')).toBe('det\n');
    expect(ok('start', 'det')).toBe('det\n');
    expect(ok('restart', '-t', '1', 'det')).toBe('det\n');
    expect(inspect('det', '{{.State.Running}}')).toBe('true');
    expect(ok('rename', 'det', 'det2')).toBe('');
    expect(inspect(id, '{{.Name}}')).toBe('/det2');
    expect(docker(['logs', 'det2']).stdout).toBe('started\nstarted\nstarted\n');
    expect(docker(['logs', '--tail', '2', 'det2'])).toEqual({ code: 0, stdout: 'started\n', stderr: 'oops\n' });
    expect(ok('rm', '-f', 'det2')).toBe('det2\n');
    expect(docker(['inspect', 'det2'])).toMatchObject({ code: 1, stderr: 'Error: No such object: det2\n' });
  });

  it('follows logs until the container stops', () => {
    ok('run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo one; sleep 2; echo two >&2; sleep 1; echo three');
    const started = Date.now();
    expect(docker(['logs', '-f', 'follow'])).toEqual({ code: 0, stdout: 'one\nthree\n', stderr: 'two\n' });
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(docker(['logs', '-f', '--tail', '1', 'follow'])).toEqual({ code: 0, stdout: 'three\n', stderr: '' });
    const stamps = docker(['logs', '-t', 'follow']).stderr.split(' ');
    expect(stamps[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(docker(['logs', '--since', stamps[0]!, 'follow'])).toEqual({ code: 0, stdout: 'three\n', stderr: 'two\n' });
    expect(docker(['logs', '--until', stamps[0]!, 'follow'])).toEqual({ code: 0, stdout: 'one\n', stderr: 'two\n' });
    ok('rm', 'follow');
  });

  it('is killed with 137, which wait reports; kill of a stopped one is a conflict', () => {
    const id = ok('run', '-d', '--name', 'victim', 'busybox', 'sleep', '300').trim();
    expect(ok('kill', 'victim')).toBe('victim\n');
    expect(ok('wait', 'victim')).toBe('137\n');
    expect(docker(['kill', 'victim'])).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: Cannot kill container: victim: Container ${id} is not running\n` });
    expect(ok('ps', '-a', '--filter', 'name=victim', '--format', '{{.Status}}')).toMatch(/^Exited \(137\) /);
    ok('rm', 'victim');
  });

  it('lists with all, limit, quiet and filters', () => {
    const a = ok('run', '-d', '--name', 'list-a', 'busybox', 'sleep', '300').trim();
    const b = ok('create', '--name', 'list-b', 'busybox', 'true').trim();
    ok('start', '-a', 'list-b');
    try {
      listChecks(a, b);
    } finally {
      docker(['rm', '-f', 'list-a', 'list-b']);
    }
  });

  function listChecks(a: string, b: string): void {
    expect(ok('ps', '-q', '--no-trunc', '--filter', 'name=list-')).toBe(`${a}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'name=list-')).toBe(`${b}\n${a}\n`);
    expect(ok('ps', '-l', '-q', '--no-trunc')).toBe(`${b}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'status=exited', '--filter', 'name=list-')).toBe(`${b}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'exited=0', '--filter', 'name=list-')).toBe(`${b}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', `id=${a.slice(0, 8)}`)).toBe(`${a}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'before=list-b', '--filter', 'name=list-')).toBe(`${a}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'since=list-a', '--filter', 'name=list-')).toBe(`${b}\n`);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'ancestor=busybox', '--filter', 'name=list-')).toBe(`${b}\n${a}\n`);
    expect(ok('ps', '-s', '--filter', 'name=list-a', '--format', '{{.Size}}')).toMatch(/B \(virtual [\d.]+MB\)\n$/);
    expect(ok('container', 'prune', '-f')).toContain(b);
    expect(ok('ps', '-a', '-q', '--no-trunc', '--filter', 'name=list-')).toBe(`${a}\n`);
  }

  it('keeps its image: rmi is refused with the conflict text', () => {
    const id = ok('create', '--name', 'holder', 'busybox', 'true').trim();
    const image = inspect('busybox', '{{.Id}}').replace('sha256:', '').slice(0, 12);
    expect(docker(['rmi', 'busybox'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error response from daemon: conflict: unable to remove repository reference "busybox" (must force) - container ${id.slice(0, 12)} is using its referenced image ${image}\n`,
    });
    ok('rm', 'holder');
  });
});

describe('docker exec', () => {
  beforeAll(() => {
    ok('run', '-d', '--name', 'ex', 'busybox', 'sleep', '300');
  });
  afterAll(() => {
    docker(['rm', '-f', 'ex']);
  });

  it('returns the exec exit code, every time', () => {
    for (let i = 0; i < 5; i++) expect(docker(['exec', 'ex', 'sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('applies -e, -w, -u and -i', () => {
    expect(ok('exec', '-e', 'X=1', '-w', '/tmp', '-u', '1000:1000', 'ex', 'sh', '-c', 'echo $X; pwd; id -u; id -g')).toBe('1\n/tmp\n1000\n1000\n');
    expect(docker(['exec', '-i', 'ex', 'cat'], 'piped\n')).toEqual({ code: 0, stdout: 'piped\n', stderr: '' });
  });

  it('runs detached with -d', async () => {
    expect(ok('exec', '-d', 'ex', 'sh', '-c', 'echo done > /tmp/detached')).toBe('');
    await waitFor(() => docker(['exec', 'ex', 'cat', '/tmp/detached']).stdout === 'done\n', 10_000);
  });

  it('refuses a stopped container with Docker\'s text', () => {
    const id = ok('create', '--name', 'ex-stopped', 'busybox', 'true').trim();
    expect(docker(['exec', 'ex-stopped', 'true'])).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: Container ${id} is not running\n` });
    ok('rm', 'ex-stopped');
  });
});

describe('published ports', () => {
  it('reaches httpd through -p and docker port prints the binding', async () => {
    const port = await freePort();
    ok('run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo hello-web > /www/index.html && httpd -f -p 80 -h /www');
    expect(ok('port', 'web')).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
    expect(ok('port', 'web', '80')).toBe(`0.0.0.0:${port}\n`);
    expect(ok('ps', '--filter', 'name=web', '--format', '{{.Ports}}')).toBe(`0.0.0.0:${port}->80/tcp\n`);
    let body = '';
    for (let i = 0; i < 50 && body !== 'hello-web\n'; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (body !== 'hello-web\n') await new Promise((r) => setTimeout(r, 200));
    }
    expect(body).toBe('hello-web\n');
    ok('rm', '-f', 'web');
  });
});

describe('user networks', () => {
  it('lets containers on one network reach each other by name', async () => {
    ok('network', 'create', 'cc-net');
    try {
      ok('run', '-d', '--name', 'cc-srv', '--network', 'cc-net', 'busybox', 'sh', '-c', 'mkdir /www && echo by-name > /www/index.html && httpd -f -p 80 -h /www');
      let out = '';
      for (let i = 0; i < 20 && out !== 'by-name\n'; i++) {
        out = docker(['run', '--rm', '--network', 'cc-net', 'busybox', 'wget', '-qO-', 'http://cc-srv/']).stdout;
        if (out !== 'by-name\n') await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toBe('by-name\n');
      expect(inspect('cc-srv', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{end}}')).toMatch(/^cc-net \d+\.\d+\.\d+\.\d+$/);
      expect(ok('ps', '--filter', 'network=cc-net', '--format', '{{.Names}} {{.Networks}}')).toBe('cc-srv cc-net\n');
    } finally {
      docker(['rm', '-f', 'cc-srv']);
      docker(['network', 'rm', 'cc-net']);
    }
  });
});

describe('signals', () => {
  it('forwards a signal the CLI receives to the container (docker run, no TTY)', async () => {
    const child = spawn(DOCKER_20, ['run', '--rm', '--name', 'sig', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 4" TERM; echo ready; while true; do sleep 0.1; done'], {
      env: { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: path.join(engine.stateDir, 'docker-config') },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => out.includes('ready'), 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(4);
    expect(out).toBe('ready\ngot-term\n');
  });
});

describe('TTY sessions on a real terminal', () => {
  it('runs -it, detaches with ctrl-p ctrl-q, attaches again and exits with the shell\'s code', async () => {
    const run = new PtyDocker(engine, ['run', '-it', '--name', 'tty', 'busybox', 'sh']);
    try {
      await run.expect('# ');
      run.write('echo $((6*7)) $TERM; stty size\r');
      await run.expect('42 xterm');
      await run.expect('30 100');
      run.write('\x10\x11');
      expect(await run.exited()).toBe(0);
    } finally {
      run.kill();
    }
    expect(inspect('tty', '{{.State.Status}} {{.Config.Tty}}')).toBe('running true');
    const attach = new PtyDocker(engine, ['attach', 'tty']);
    try {
      attach.write('echo again\r');
      await attach.expect('again\r\n');
      attach.write('exit 5\r');
      expect(await attach.exited()).toBe(5);
    } finally {
      attach.kill();
    }
    expect(inspect('tty', '{{.State.ExitCode}}')).toBe('5');
    const start = new PtyDocker(engine, ['start', '-a', '-i', 'tty']);
    try {
      await start.expect('# ');
      start.write('exit 2\r');
      expect(await start.exited()).toBe(2);
    } finally {
      start.kill();
    }
    ok('rm', 'tty');
  });

  it('runs -it --rm until the shell exits, with its code, and removes the container', async () => {
    const run = new PtyDocker(engine, ['run', '-it', '--rm', '--name', 'tty-rm', 'busybox', 'sh']);
    try {
      await run.expect('# ');
      run.write('exit 6\r');
      expect(await run.exited()).toBe(6);
    } finally {
      run.kill();
    }
    expect(ok('ps', '-a', '-q', '--filter', 'name=tty-rm')).toBe('');
  });

  it('stores a TTY container\'s output raw, and logs replays it unframed', () => {
    ok('run', '-t', '--name', 'tty-log', 'busybox', 'echo', 'through-a-tty');
    expect(docker(['logs', 'tty-log'])).toEqual({ code: 0, stdout: 'through-a-tty\r\n', stderr: '' });
    ok('rm', 'tty-log');
  });

  it('runs exec -it with the exec\'s exit code', async () => {
    ok('run', '-d', '--name', 'tty-exec', 'busybox', 'sleep', '300');
    const exec = new PtyDocker(engine, ['exec', '-it', 'tty-exec', 'sh']);
    try {
      await exec.expect('# ');
      exec.write('stty size; exit 4\r');
      await exec.expect('30 100');
      expect(await exec.exited()).toBe(4);
    } finally {
      exec.kill();
      docker(['rm', '-f', 'tty-exec']);
    }
  });
});

describe('the API under malformed or early requests', () => {
  it('answers a create body of the wrong shape with 400 and keeps ps working', async () => {
    for (const body of [{ Image: 'busybox', Cmd: [1, 2] }, { Image: 'busybox', Env: 'A=1' }, { Image: 'busybox', HostConfig: { Binds: 'x' } }, [], { Image: 5 }]) {
      const r = await api('POST', '/v1.41/containers/create', body);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toHaveProperty('message');
    }
    expect(ok('ps', '-a', '--format', '{{.Names}}')).not.toContain('undefined');
  });

  it('sends the wait headers before the container exits', async () => {
    const id = ok('run', '-d', 'busybox', 'sleep', '300').trim();
    try {
      const head = await new Promise<number | undefined>((resolve, reject) => {
        const req = http.request({ socketPath: engine.socket, method: 'POST', path: `/v1.41/containers/${id}/wait?condition=next-exit` }, (res) => {
          resolve(res.statusCode);
          req.destroy();
        });
        req.on('error', reject);
        req.end();
      });
      expect(head).toBe(200);
      expect(inspect(id, '{{.State.Running}}')).toBe('true');
    } finally {
      ok('rm', '-f', id);
    }
  });
});

function api(method: string, urlPath: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ socketPath: engine.socket, method, path: urlPath, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function waitForLogs(name: string, text: string): void {
  for (let i = 0; i < 100; i++) {
    if (docker(['logs', name]).stdout.includes(text)) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
