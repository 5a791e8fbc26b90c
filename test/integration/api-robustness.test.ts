/**
 * Issue #7's robustness cases: hostile or broken API traffic gets a 4xx or a clean close, never a crash or a
 * leak, and concurrent CLI calls on one container are safe. Raw HTTP over the engine's socket.
 */
import http from 'node:http';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_20, startEngine, waitFor, type TestEngine } from '../helpers/engine.ts';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startEngine('robust');
});
afterAll(async () => engine?.stop());

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

function request(method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: engine.socket, method, path: url, headers: { Host: 'docker', ...headers }, timeout: 20_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

async function expectAlive(): Promise<void> {
  const ping = await request('GET', '/_ping');
  expect(ping.status).toBe(200);
  expect(engine.docker(['ps', '-a']).code).toBe(0);
}

describe('malformed requests get a 4xx with a JSON message', () => {
  it.each([
    ['malformed JSON', 'POST', '/v1.41/containers/create', '{"Image": "busybox",', json],
    ['wrong types', 'POST', '/v1.41/containers/create', '{"Image": 5, "Cmd": "not a list"}', json],
    ['a JSON array body', 'POST', '/v1.41/containers/create', '[1,2,3]', json],
    ['an invalid container name', 'POST', '/v1.41/containers/create?name=../../etc', '{"Image":"busybox"}', json],
    ['invalid filters', 'GET', '/v1.41/images/json?filters=%7Bnot-json', undefined, {}],
    ['an unknown filter', 'GET', '/v1.41/containers/json?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D', undefined, {}],
    ['a non-numeric kill signal', 'POST', '/v1.41/containers/nosuch/kill?signal=NOPE', undefined, {}],
  ])('%s', async (_what, method, url, body, headers) => {
    const reply = await request(method, url, body, headers);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.type).toBe('application/json');
    expect(typeof (JSON.parse(reply.body) as { message: unknown }).message).toBe('string');
  });

  it('refuses a malformed new image name (a 500, as dockerd answers it)', async () => {
    const reply = await request('POST', '/v1.41/images/busybox/tag?repo=..%2F..%2Fevil&tag=x');
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ message: 'invalid reference format' });
  });

  it('answers unknown endpoints with 404 "page not found"', async () => {
    const reply = await request('GET', '/v1.41/no/such/endpoint');
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ message: 'page not found' });
  });

  it('refuses an oversized JSON body', async () => {
    const reply = await request('POST', '/v1.41/containers/create', `{"Image":"busybox","Env":["${'x'.repeat(6 * 1024 * 1024)}"]}`, json);
    expect(reply.status).toBe(400);
  });

  it('keeps names with ../ inside the namespace', async () => {
    for (const url of ['/v1.41/containers/..%2F..%2F..%2Fetc/json', '/v1.41/images/..%2F..%2Fetc%2Fpasswd/json', '/v1.41/containers/../../etc/json']) {
      const reply = await request('GET', url);
      expect([400, 404]).toContain(reply.status);
    }
    await expectAlive();
  });
});

describe('clients that vanish', () => {
  it('survives a request cut off mid-body', async () => {
    for (const target of ['/v1.41/containers/create', '/v1.41/images/load', '/v1.41/build?t=x']) {
      await new Promise<void>((resolve) => {
        const sock = net.connect(engine.socket, () => {
          sock.write(`POST ${target} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: 100000\r\n\r\n`);
          sock.write(Buffer.alloc(3000, 1));
          setTimeout(() => {
            sock.destroy();
            resolve();
          }, 100);
        });
        sock.on('error', () => resolve());
      });
    }
    await expectAlive();
    // Nothing from the cut uploads stays in the store's scratch space.
    await new Promise((r) => setTimeout(r, 500));
    expect(await filesUnder(path.join(engine.stateDir, 'tmp'))).toEqual([]);
  });

  it('survives clients leaving logs -f and attach mid-stream', async () => {
    expect(engine.docker(['run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']).code).toBe(0);
    const env = { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}` };
    for (const args of [['logs', '-f', 'chatty'], ['attach', 'chatty']]) {
      const child = spawn(DOCKER_20, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('tick'), 15_000);
      child.kill('SIGKILL');
    }
    await expectAlive();
    expect(engine.docker(['inspect', '-f', '{{.State.Running}}', 'chatty']).stdout.trim()).toBe('true');
    expect(engine.docker(['rm', '-f', 'chatty']).code).toBe(0);
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await filesUnder(path.join(dir, e.name))));
    else out.push(path.join(dir, e.name));
  }
  return out;
}

describe('a client that leaves a pull', () => {
  it('does not break the engine or the next pull', async () => {
    expect(engine.docker(['rmi', 'debian:bookworm', 'debian:12', 'debian:latest']).code).toBe(0);
    const env = { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}` };
    const child = spawn(DOCKER_20, ['pull', 'debian:bookworm'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('Pulling fs layer') || out.includes('Downloading') || child.exitCode !== null, 30_000);
    child.kill('SIGKILL');
    await expectAlive();
    const again = engine.docker(['pull', 'debian:bookworm'], { timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(engine.docker(['run', '--rm', 'debian:bookworm', 'cat', '/etc/debian_version']).stdout).toMatch(/^12\./);
  });
});

describe('concurrency', () => {
  it('keeps one container consistent under parallel CLI calls', async () => {
    expect(engine.docker(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']).code).toBe(0);
    const env = { PATH: process.env.PATH, HOME: engine.stateDir, DOCKER_HOST: `unix://${engine.socket}` };
    const run = (args: string[]) =>
      new Promise<number>((resolve) => {
        const child = spawn(DOCKER_20, args, { env, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code ?? -1));
      });
    const ops = [['stop', '-t', '1', 'busy'], ['start', 'busy'], ['restart', '-t', '1', 'busy'], ['pause', 'busy'], ['unpause', 'busy'], ['kill', 'busy'], ['start', 'busy'], ['inspect', 'busy']];
    await Promise.all([...ops, ...ops].map(run));
    await expectAlive();
    const state = engine.docker(['inspect', '-f', '{{.State.Status}}', 'busy']).stdout.trim();
    expect(['running', 'exited', 'paused']).toContain(state);
    expect(engine.docker(['rm', '-f', 'busy']).code).toBe(0);
    expect(engine.docker(['ps', '-aq']).stdout.trim()).toBe('');
  });
});
