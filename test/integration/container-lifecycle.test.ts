import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestRuntime, runContainer, type TestRuntime } from './container-helpers.ts';

describe('container lifecycle on runc + overlayfs', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await openTestRuntime('ctr-life');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('runs a command and reports exit code 0 and its output', async () => {
    const started = performance.now();
    const r = await runContainer(t, ['true']);
    console.log(`create+start+wait for true: ${(performance.now() - started).toFixed(0)} ms`);
    expect(r.code).toBe(0);
    const r2 = await runContainer(t, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r2).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(t.rt.inspect(r2.id).state).toMatchObject({ Status: 'exited', ExitCode: 3, Running: false, OOMKilled: false });
  });
});
