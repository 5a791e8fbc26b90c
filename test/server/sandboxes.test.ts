import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/engine.ts';
import { PROMPT, startServer, TestSession, TestTerminal, type TestServer } from '../helpers/server.ts';
import { hostTraces, NOTHING } from './host-traces.ts';

describe('learner sandboxes through the web server', () => {
  let server: TestServer;
  /** Every sandbox the suite saw, for the leave-nothing check. */
  const seen = new Set<string>();
  let a: TestSession;
  let termA: TestTerminal;

  beforeAll(async () => {
    server = await startServer('sandboxes', ['--sandboxes-per-client', '4']);
    expect(hostTraces(server.stateDir)).toEqual(NOTHING);
    a = new TestSession(server);
    seen.add((await a.open()).sandboxId);
    termA = await a.terminal();
    await termA.waitForText(PROMPT);
  });

  afterAll(async () => {
    termA?.close();
    await server?.dispose();
  });

  it('gives a visitor an opaque session cookie and the same sandbox on the next visit', async () => {
    const b = new TestSession(server);
    const res = await b.fetch('/api/session', { method: 'POST' });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^layerlab_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const first = (await res.json()) as { sandboxId: string };
    seen.add(first.sandboxId);
    expect((await b.open()).sandboxId).toBe(first.sandboxId);
    expect((await a.open()).sandboxId).not.toBe(first.sandboxId);
    await b.fetch('/api/sandbox/reset', { method: 'POST' });
  });

  it('runs the real docker CLI in the shell against the sandbox engine', async () => {
    const out = await termA.run('docker run --rm hello-world', /Hello from layerlab|Hello from Docker/i);
    expect(out).toMatch(/Hello/);
    const ps = await termA.run('docker ps -a --format "{{.Names}}" | wc -l; echo done', /^\d+\s*\n.*done/m);
    expect(ps).toMatch(/^0\s*$/m); // the shell container itself is not listed
  });

  it('runs interactive containers in the terminal, and ctrl-c interrupts', async () => {
    await termA.run('docker run -it --rm busybox sh', /\/ # $/m);
    await termA.run('echo inside-$((20+22)); stty size', /inside-42\s*\n\d+ \d+/);
    await termA.run('exit', PROMPT);
    const from = termA.text.length;
    termA.type('sleep 300\r');
    await new Promise((r) => setTimeout(r, 500));
    termA.type('\x03');
    await termA.waitForText(/\^C\s*\n[^\n]*\/workspace[^\n]*[#$] $/m, { from, timeoutMs: 5000 });
  });

  it('keeps sandboxes apart: names, containers and images of one are invisible to another', async () => {
    await termA.run('docker run -d --name only-in-a busybox sleep 300 && docker tag busybox mine:a && echo made', /made/);
    const b = new TestSession(server);
    seen.add((await b.open()).sandboxId);
    const termB = await b.terminal();
    await termB.waitForText(PROMPT);
    const out = await termB.run('docker ps -a; docker images mine; echo end-of-list', /end-of-list\s*\n/);
    expect(out).not.toContain('only-in-a');
    expect(out).not.toContain('mine ');
    termB.close();
    await b.fetch('/api/sandbox/reset', { method: 'POST' });
  });

  it('shows files written from the terminal in the file API and the other way round', async () => {
    const changed = termA.messages.length;
    await termA.run('mkdir -p site && echo "<h1>from the shell</h1>" > site/index.html && echo ok', /ok/);
    await waitFor(() => termA.messages.slice(changed).some((m) => m.type === 'files-changed'), 5000);
    const files = (await (await a.fetch('/api/files')).json()) as Array<{ path: string }>;
    expect(files.map((f) => f.path)).toContain('site/index.html');
    const put = await a.fetch('/api/file?path=Dockerfile', { method: 'PUT', body: 'FROM busybox\nCMD ["echo", "built here"]\n' });
    expect(put.status).toBe(200);
    await termA.run('docker build -q -t app . >/dev/null && docker run --rm app', /built here/);
  });

  it('publishes ports on the sandbox localhost and previews them through the proxy', async () => {
    await termA.run('docker run -d -p 8080:80 -v /workspace/site:/usr/share/nginx/html:ro nginx >/dev/null && echo started', /started/);
    await termA.run('curl -s --retry 5 --retry-connrefused localhost:8080', /from the shell/);
    await waitFor(() => termA.messages.some((m) => m.type === 'ports' && m.ports.some((p) => p.hostPort === 8080)), 5000);
    const redirect = await a.fetch('/preview/8080/');
    expect(redirect.status).toBe(302);
    const page = await a.fetch(redirect.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('from the shell');
    expect(page.headers.get('content-security-policy')).toMatch(/^sandbox /);
    // Without the session cookie there is no preview.
    expect((await fetch(`${server.url}/preview/8080/`, { redirect: 'manual' })).status).toBe(401);
  });

  it('proxies WebSocket upgrades to a sandbox port', async () => {
    // A tiny upgrade server in a container: answers 101, then echoes every byte.
    const script = '#!/bin/sh\nwhile read -r line; do [ "$(printf %s "$line" | tr -d "\\r")" = "" ] && break; done\nprintf "HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n"\nexec cat\n';
    expect((await a.fetch('/api/file?path=ws-echo.sh', { method: 'PUT', body: script })).status).toBe(200);
    await termA.run('chmod +x ws-echo.sh && docker run -d -p 9000:9000 -v /workspace:/w busybox nc -ll -p 9000 -e /w/ws-echo.sh >/dev/null && echo listening', /listening/);
    const location = (await a.fetch('/preview/9000/')).headers.get('location')!;
    const upgrade = () => new Promise<string>((resolve, reject) => {
      const req = http.request(`${server.url}${location}`, { headers: { connection: 'Upgrade', upgrade: 'websocket', origin: server.url } });
      req.on('upgrade', (_res, socket) => {
        let got = '';
        socket.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('ping-42')) {
            socket.destroy();
            resolve(got);
          }
        });
        socket.write('ping-42');
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
      req.end();
    });
    // nc may still be starting: until it listens, the proxy answers 502.
    let echoed = '';
    for (let i = 0; i < 20 && !echoed; i++) {
      echoed = await upgrade().catch(async (err: Error) => {
        if (!/no upgrade: 502/.test(err.message)) throw err;
        await new Promise((r) => setTimeout(r, 250));
        return '';
      });
    }
    expect(echoed).toBe('ping-42');
  });

  it('keeps the shell away from the server and the host', async () => {
    const port = new URL(server.url).port;
    const out = await termA.run(`curl -s -m 3 http://127.0.0.1:${port}/ ; echo "exit=$?"`, /exit=\d+/);
    expect(out).toMatch(/exit=(7|28)/);
    const ls = await termA.run('ls /run/layerlab; touch /run/layerlab/x; echo "touch=$?"', /touch=\d/);
    expect(ls).toMatch(/touch=1/);
  });

  it('refuses host access typed in the terminal', async () => {
    const cases: Array<[string, RegExp]> = [
      ['docker run --rm --privileged busybox true', /--privileged is not allowed/],
      ['docker run --rm -v /:/host busybox true', /bind mount of \/ is not allowed/],
      ['ln -sfn / /workspace/rootlink && docker run --rm -v /workspace/rootlink:/x busybox ls /x', /symbolic link|not allowed/i],
      ['docker run --rm -v /workspace/../../..:/x busybox true', /not allowed|invalid/i],
      ['docker run --rm --network host busybox true', /not allowed/],
    ];
    for (const [command, refusal] of cases) {
      const echoed = await termA.run(`${command}; echo "status=$?"`, /status=\d+/);
      const out = echoed.slice(echoed.indexOf('\n') + 1); // what came after the typed line
      expect(out, command).toMatch(refusal);
      expect(out, command).toMatch(/status=[1-9]/);
    }
    await termA.run('rm -f /workspace/rootlink && echo cleaned', /cleaned/);
  });

  it('refuses requests without a session and WebSockets from other origins', async () => {
    const stranger = new TestSession(server);
    expect((await stranger.fetch('/api/files')).status).toBe(401);
    await expect(stranger.terminal()).rejects.toThrow(/401/);
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/api/ws`;
    await expect(TestTerminal.connect(wsUrl, { cookie: a.cookie, origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const post = await a.fetch('/api/files/mkdir?path=x', { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(post.status).toBe(403);
  });

  it('limits how many sandboxes one client address holds', async () => {
    // A, and the sandboxes the cookie and isolation tests reset (a reset replaces, it does not free): 3 live.
    const fourth = new TestSession(server);
    seen.add((await fourth.open()).sandboxId);
    const res = await new TestSession(server).fetch('/api/session', { method: 'POST' });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { message: string }).message).toMatch(/^this address already has 4 sandboxes/);
  });

  it('caps WebSocket messages', async () => {
    const t = await a.terminal();
    t.ws.send(JSON.stringify({ type: 'input', data: 'x'.repeat(2 * 1024 * 1024) }));
    await waitFor(() => t.closed !== undefined, 5000);
    expect(t.closed!.code).toBe(1009);
  });

  it('restores recent output for a reloaded page and serves several tabs', async () => {
    await termA.run('echo marker-$((6*7))', /marker-42/);
    const second = await a.terminal();
    await second.waitForText(/marker-42/);
    const from = termA.text.length;
    second.type('echo both-$((2*3))\r');
    await termA.waitForText(/both-6/, { from });
    second.close();
  });

  it('resets to an empty sandbox and leaves nothing of the old one on the host', async () => {
    const old = (await a.open()).sandboxId;
    const res = await a.fetch('/api/sandbox/reset', { method: 'POST' });
    const fresh = (await res.json()) as { sandboxId: string };
    seen.add(fresh.sandboxId);
    expect(fresh.sandboxId).not.toBe(old);
    await waitFor(() => termA.closed !== undefined, 5000);
    termA = await a.terminal();
    await termA.waitForText(PROMPT);
    const out = await termA.run('docker ps -aq | wc -l; ls -A /workspace | wc -l', /^\d+\s*\n\d+\s*$/m);
    expect(out).toMatch(/^0\s*\n0\s*$/m);
    termA.close();
    seen.add(((await (await a.fetch('/api/sandbox/reset', { method: 'POST' })).json()) as { sandboxId: string }).sandboxId);
    // Stopping the server destroys the sandboxes still live; nothing of any of them may remain.
    await server.stop();
    expect(hostTraces(server.stateDir, seen)).toEqual(NOTHING);
  });
});
