/**
 * Issue #6's "localhost means the engine's host namespace" flow, end to end through the real CLI: a registry
 * runs as a layerlab container with `-p PORT:5000`, and `docker push/pull localhost:PORT/…` reach it through
 * the published port. The registry is Debian's docker-registry (distribution 2.8.2), built into an image here.
 */
import { copyFileSync, existsSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, waitFor, waitForHttp, type TestEngine } from '../helpers/engine.ts';
import { freePort } from './registry-peers.ts';

const REGISTRY = '/usr/bin/docker-registry';
const available = existsSync(REGISTRY);
if (!available) console.warn('registry-container: skipped: needs Debian’s docker-registry (npm test’s setup installs it)');

let engine: TestEngine;
let context: string;
let port: number;

beforeAll(async () => {
  if (!available) return;
  engine = await startEngine('registry-ctr');
  context = mkdtempSync(path.join(os.tmpdir(), 'layerlab-registry-ctx-'));
  copyFileSync(REGISTRY, path.join(context, 'registry'));
  writeFileSync(
    path.join(context, 'config.yml'),
    'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n',
  );
  writeFileSync(
    path.join(context, 'Dockerfile'),
    [
      'FROM debian:bookworm-slim',
      'COPY registry /usr/bin/registry',
      'COPY config.yml /etc/docker/registry/config.yml',
      'EXPOSE 5000',
      'CMD ["/usr/bin/registry", "serve", "/etc/docker/registry/config.yml"]',
      '',
    ].join('\n'),
  );
  port = await freePort();
}, 180_000);

afterAll(async () => {
  await engine?.stop();
  if (context) await fs.rm(context, { recursive: true, force: true });
});

describe.skipIf(!available)('a registry container on localhost', () => {
  it('takes pushes and serves pulls through its published port', async () => {
    expect(engine.docker(['build', '-q', '-t', 'test/registry', context]).code).toBe(0);
    const run = engine.docker(['run', '-d', '--name', 'registry', '-p', `${port}:5000`, 'test/registry']);
    expect(run.code, run.stderr).toBe(0);
    // Ready when the registry answers through the published port.
    await waitFor(() => engine.docker(['port', 'registry', '5000']).stdout.includes(String(port)), 10_000);
    await waitForHttp(`http://127.0.0.1:${port}/v2/`, 20_000);

    const ref = `localhost:${port}/learner/box:v1`;
    expect(engine.docker(['tag', 'busybox', ref]).code).toBe(0);
    const push = engine.docker(['push', ref]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain(`The push refers to repository [localhost:${port}/learner/box]`);
    expect(push.stdout).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);

    expect(engine.docker(['rmi', ref]).code).toBe(0);
    const pull = engine.docker(['pull', ref]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    const catalog = (await (await fetch(`http://127.0.0.1:${port}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(catalog.repositories).toEqual(['learner/box']);
    const missing = engine.docker(['pull', `localhost:${port}/learner/nothere`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('manifest unknown');
    expect(engine.docker(['rm', '-f', 'registry']).code).toBe(0);
  });
});
