import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../runtime/util/digest.ts';
import { startEngine, type TestEngine } from '../helpers/engine.ts';
import { findDockerd, type Dockerd } from '../helpers/dockerd.ts';
import { freePort } from './registry-peers.ts';

const SKOPEO = '/usr/bin/skopeo';
const hasSkopeo = existsSync(SKOPEO);
if (!hasSkopeo) console.warn('registry-interop: skopeo tests skipped (apt-get install skopeo)');
const dockerd = await findDockerd();
if (!dockerd) console.warn('registry-interop: real-dockerd tests skipped: no dockerd could be started (apt-get install docker.io)');

/** Tools nobody here wrote, talking to the embedded hub: skopeo and a real dockerd. */
describe('the hub with real peers', () => {
  let engine: TestEngine;
  let hub: string;
  let work: string;

  beforeAll(async () => {
    const port = await freePort();
    hub = `127.0.0.1:${port}`;
    engine = await startEngine('registry-interop', { extraArgs: ['--hub-port', String(port)] });
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-registry-interop-'));
  });

  afterAll(async () => {
    await engine?.stop();
    await dockerd?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it.skipIf(!hasSkopeo)('skopeo copies library/busybox out of the hub into an OCI layout, every blob verified', async () => {
    const dest = path.join(work, 'oci');
    const out = spawnSync(SKOPEO, ['copy', '--src-tls-verify=false', `docker://${hub}/library/busybox:latest`, `oci:${dest}:latest`], { timeout: 60_000 });
    expect(out.status, out.stderr.toString()).toBe(0);
    const index = JSON.parse(await fs.readFile(path.join(dest, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const blobs = await fs.readdir(path.join(dest, 'blobs', 'sha256'));
    expect(blobs.length).toBeGreaterThanOrEqual(3);
    for (const hex of blobs) expect(sha256(await fs.readFile(path.join(dest, 'blobs', 'sha256', hex)))).toBe(`sha256:${hex}`);
    expect(blobs).toContain(index.manifests[0]!.digest.slice(7));
    const inspect = spawnSync(SKOPEO, ['inspect', '--tls-verify=false', `docker://${hub}/library/debian:bookworm-slim`], { timeout: 60_000 });
    expect(inspect.status, inspect.stderr.toString()).toBe(0);
    expect(JSON.parse(inspect.stdout.toString())).toMatchObject({ Name: `${hub}/library/debian`, Architecture: 'amd64', Os: 'linux' });
  });

  it.skipIf(!dockerd)('a real dockerd pulls from the hub, logs in, pushes under its name; layerlab pulls that back, same image ID', async () => {
    const real = dockerd as Dockerd;
    const config = path.join(work, 'docker-config');
    const pulled = real.docker(['pull', `${hub}/library/busybox:latest`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${hub}/library/busybox:latest`);
    const login = real.docker(['--config', config, 'login', '-u', 'dockerd-user', '-p', 'dockerd-pw', hub]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Login Succeeded');
    const badLogin = real.docker(['--config', config, 'login', '-u', 'dockerd-user', '-p', 'wrong', hub]);
    expect(badLogin.stderr).toContain('unauthorized: incorrect username or password');
    const name = `${hub}/dockerd-user/from-dockerd:v1`;
    expect(real.docker(['tag', `${hub}/library/busybox:latest`, name]).code).toBe(0);
    const push = real.docker(['--config', config, 'push', name]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toMatch(/Mounted from library\/busybox|Layer already exists/);
    const denied = real.docker(['--config', config, 'push', `${hub}/library/busybox:latest`]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('denied: requested access to the resource is denied');
    const ours = engine.docker(['pull', 'dockerd-user/from-dockerd:v1']);
    expect(ours.code, ours.stderr).toBe(0);
    const theirId = real.docker(['image', 'inspect', '--format', '{{.Id}}', name]).stdout.trim();
    expect(engine.docker(['image', 'inspect', '--format', '{{.Id}}', 'dockerd-user/from-dockerd:v1']).stdout.trim()).toBe(theirId);
    real.docker(['rmi', name, `${hub}/library/busybox:latest`]);
  }, 180_000);

  it.skipIf(!dockerd)('a real dockerd pulls what layerlab pushed to the hub', () => {
    const real = dockerd as Dockerd;
    expect(engine.docker(['login', '-u', 'll-user', '--password-stdin'], { input: 'll-password' }).code).toBe(0);
    expect(engine.docker(['tag', 'hello-world', 'll-user/hello:v1']).code).toBe(0);
    const push = engine.docker(['push', 'll-user/hello:v1']);
    expect(push.code, push.stderr).toBe(0);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)![1];
    const pulled = real.docker(['pull', `${hub}/ll-user/hello:v1`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`Digest: ${digest}`);
    const id = engine.docker(['image', 'inspect', '--format', '{{.Id}}', 'll-user/hello:v1']).stdout.trim();
    expect(real.docker(['image', 'inspect', '--format', '{{.Id}}', `${hub}/ll-user/hello:v1`]).stdout.trim()).toBe(id);
    real.docker(['rmi', `${hub}/ll-user/hello:v1`]);
  }, 120_000);
});
