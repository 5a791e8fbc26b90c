import { invalid } from '../errors.ts';
import type { HostConfig } from './types.ts';

/**
 * Docker's restart policies (`--restart no|always|unless-stopped|on-failure[:N]`) and its restart manager's
 * backoff: 100 ms, doubling per restart up to a minute, back to 100 ms after a run of 10 seconds or more.
 */
const INITIAL_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STEADY_RUN_MS = 10_000;

type PolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface Policy {
  name: PolicyName;
  maximumRetryCount: number;
}

export function policyOf(h: HostConfig): Policy {
  const p = h.RestartPolicy;
  const name = p?.Name === '' || p?.Name === undefined ? 'no' : p.Name;
  return { name: name as PolicyName, maximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

/** dockerd's validation at create (its texts). */
export function checkRestartPolicy(h: HostConfig): void {
  const { name, maximumRetryCount } = policyOf(h);
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalid(`invalid restart policy '${name}'`);
  if (name !== 'on-failure' && maximumRetryCount !== 0) throw invalid(`maximum retry count cannot be used with restart policy '${name}'`);
  if (maximumRetryCount < 0) throw invalid('maximum retry count cannot be negative');
  if (h.AutoRemove && name !== 'no') throw invalid("can't create 'AutoRemove' container with restart policy");
}

/** Should a container that just exited be started again? `restartCount` counts the restarts so far. */
export function shouldRestart(policy: Policy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  if (manuallyStopped) return false;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (policy.maximumRetryCount === 0 || restartCount < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** Should the engine start this container when it opens (containers do not outlive an engine)? */
export function restartsWithEngine(policy: Policy, manuallyStopped: boolean, wasRunning: boolean): boolean {
  if (policy.name === 'always') return true;
  if (policy.name === 'unless-stopped') return !manuallyStopped;
  return policy.name === 'on-failure' && wasRunning;
}

/** The wait before the next restart, given the previous wait and how long the last run lasted. */
export function nextDelay(previousMs: number, ranMs: number): number {
  if (ranMs >= STEADY_RUN_MS || previousMs === 0) return INITIAL_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}
