import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/engine.ts';
import { PROMPT, startServer, TestSession, type TestServer } from '../helpers/server.ts';
import { hostTraces, NOTHING } from './host-traces.ts';

/** Capacity, idle timeout, shared quotas and a server crash, on a server with one slot and an 8-second idle timeout. */
describe('sandbox lifecycle', () => {
  let server: TestServer;
  const seen = new Set<string>();
  /** The sandbox the quota test leaves for the crash test (the server has one slot). */
  let live: TestSession;

  beforeAll(async () => {
    server = await startServer('sandbox-lifecycle', ['--max-sandboxes', '1', '--sandbox-idle-timeout', '8s', '--sandbox-pids', '200', '--sandbox-memory', '300m']);
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('tells a visitor plainly when every slot is taken', async () => {
    const first = new TestSession(server);
    seen.add((await first.open()).sandboxId);
    const res = await new TestSession(server).fetch('/api/session', { method: 'POST' });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { message: string; retryAfterSeconds: number };
    expect(body.message).toMatch(/^all sandboxes are in use; try again in \d+ minutes?$/);
    expect(body.retryAfterSeconds).toBeGreaterThan(0);
    expect(res.headers.get('retry-after')).toBe(String(body.retryAfterSeconds));
  });

  it('warns an idle learner, then destroys the sandbox and frees its slot', async () => {
    const s = new TestSession(server);
    // The slot is still taken by the first test's sandbox until its idle timeout frees it.
    let opened = false;
    const deadline = Date.now() + 30_000;
    while (!opened && Date.now() < deadline) {
      const res = await s.fetch('/api/session', { method: 'POST' });
      opened = res.status === 200;
      if (opened) seen.add(((await res.json()) as { sandboxId: string }).sandboxId);
      else await new Promise((r) => setTimeout(r, 1000));
    }
    expect(opened).toBe(true);
    const t = await s.terminal();
    await t.waitForText(PROMPT);
    await waitFor(() => t.messages.some((m) => m.type === 'idle-warning'), 20_000);
    await waitFor(() => t.closed !== undefined, 20_000);
    expect(t.messages.at(-1)).toEqual({ type: 'sandbox-ended', reason: 'idle' });
    expect((await s.fetch('/api/files')).status).toBe(401);
    // The tabs are told first; the teardown finishes right after.
    await expect.poll(() => hostTraces(server.stateDir, seen), { timeout: 10_000 }).toEqual(NOTHING);
  });

  it('bounds everything a sandbox runs together by its quotas', async () => {
    const s = new TestSession(server);
    const { sandboxId } = await s.open();
    seen.add(sandboxId);
    const tag = createHash('sha256').update(path.join(server.stateDir, 'sandboxes', sandboxId, 'engine', 'engine')).digest('hex').slice(0, 12);
    expect(readFileSync(`/sys/fs/cgroup/pids/layerlab/${tag}/pids.max`, 'utf8').trim()).toBe('200');
    expect(readFileSync(`/sys/fs/cgroup/memory/layerlab/${tag}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(300 * 1024 ** 2));
    const t = await s.terminal();
    await t.waitForText(PROMPT);
    // One container holds 150 processes; a second one then cannot start 100 more: the limit is the sandbox's.
    await t.run("docker run -d --name holder busybox sh -c 'for i in $(seq 150); do sleep 120 & done; wait' >/dev/null && sleep 2 && echo held", /held/);
    const out = await t.run("docker run --rm busybox sh -c 'for i in $(seq 100); do sleep 1 & done; wait' 2>&1 | grep -c -i fork", /^\d+\s*$/m);
    expect(Number(/^(\d+)\s*$/m.exec(out.slice(out.indexOf('\n') + 1))![1])).toBeGreaterThan(0);
    await t.run('docker rm -f holder >/dev/null && echo gone', /gone/);
    t.close();
    live = s;
  });

  it('reaps the sandboxes of a crashed server when it starts again', async () => {
    const s = live;
    const t = await s.terminal();
    await t.waitForText(PROMPT);
    await t.run('docker run -d -p 8080:80 nginx >/dev/null && echo up', /up/);
    await server.kill();
    const left = hostTraces(server.stateDir, seen);
    expect(left.netns.length + left.dirs.length + left.mounts.length).toBeGreaterThan(0);
    await server.restart();
    expect(hostTraces(server.stateDir, seen)).toEqual(NOTHING);
    expect((await s.fetch('/api/files')).status).toBe(401);
  });
});
