import { describe, expect, it } from 'vitest';
import { checkRestartPolicy, nextDelay, policyOf, restartsWithEngine, shouldRestart } from '../../runtime/container/restart-policy.ts';

const policy = (Name: string, MaximumRetryCount = 0) => policyOf({ RestartPolicy: { Name, MaximumRetryCount } });

describe('restart policies', () => {
  it('validates like dockerd', () => {
    expect(() => checkRestartPolicy({ RestartPolicy: { Name: 'sometimes', MaximumRetryCount: 0 } })).toThrow("invalid restart policy 'sometimes'");
    expect(() => checkRestartPolicy({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } })).toThrow("maximum retry count cannot be used with restart policy 'always'");
    expect(() => checkRestartPolicy({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } })).toThrow('maximum retry count cannot be negative');
    expect(() => checkRestartPolicy({ AutoRemove: true, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } })).toThrow("can't create 'AutoRemove' container with restart policy");
    expect(() => checkRestartPolicy({ RestartPolicy: { Name: '', MaximumRetryCount: 0 } })).not.toThrow();
  });

  it('decides restarts as the restart manager does', () => {
    expect(shouldRestart(policy('no'), 1, 0, false)).toBe(false);
    expect(shouldRestart(policy('always'), 0, 50, false)).toBe(true);
    expect(shouldRestart(policy('always'), 0, 0, true)).toBe(false);
    expect(shouldRestart(policy('unless-stopped'), 0, 0, false)).toBe(true);
    expect(shouldRestart(policy('on-failure'), 0, 0, false)).toBe(false);
    expect(shouldRestart(policy('on-failure', 2), 1, 1, false)).toBe(true);
    expect(shouldRestart(policy('on-failure', 2), 1, 2, false)).toBe(false);
    expect(shouldRestart(policy('on-failure'), 1, 99, false)).toBe(true);
  });

  it('restarts with the engine per policy', () => {
    expect(restartsWithEngine(policy('always'), true, false)).toBe(true);
    expect(restartsWithEngine(policy('unless-stopped'), true, true)).toBe(false);
    expect(restartsWithEngine(policy('unless-stopped'), false, false)).toBe(true);
    expect(restartsWithEngine(policy('on-failure'), false, true)).toBe(true);
    expect(restartsWithEngine(policy('on-failure'), false, false)).toBe(false);
    expect(restartsWithEngine(policy('no'), false, true)).toBe(false);
  });

  it('backs off 100 ms doubling to a minute, reset by a 10 s run', () => {
    let d = 0;
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) seen.push((d = nextDelay(d, 50)));
    expect(seen.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(seen[seen.length - 1]).toBe(60_000);
    expect(nextDelay(60_000, 10_000)).toBe(100);
  });
});
