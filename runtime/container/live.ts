import type { RunIo } from './io.ts';
import type { RuncProcess } from './runc.ts';
import type { ContainerRecord, ContainerState } from './types.ts';

/** One run of a container: its runc process, its stdio, and a promise settled once all cleanup is done. */
export interface Run {
  proc: RuncProcess;
  io: RunIo;
  finished: Promise<void>;
}

/** A container as the runtime holds it in memory: record, state, current run, and who waits for what. */
export class Live {
  run?: Run;
  /** Stdio for the next run, made when a client attaches before start. */
  nextIo?: RunIo;
  removed = false;
  /** Pending restart under the container's restart policy, and the backoff it used. */
  restartTimer?: NodeJS.Timeout;
  restartDelayMs = 0;
  private exitWaiters: Array<() => void> = [];
  private removeWaiters: Array<() => void> = [];

  constructor(
    public record: ContainerRecord,
    public state: ContainerState,
  ) {}

  whenExited(): Promise<void> {
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  notifyExit(): void {
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  whenRemoved(): Promise<void> {
    return new Promise((resolve) => this.removeWaiters.push(resolve));
  }

  notifyRemoved(): void {
    // Waiting for an exit that can no longer come ends with the removal.
    this.notifyExit();
    const waiters = this.removeWaiters;
    this.removeWaiters = [];
    for (const w of waiters) w();
  }
}
