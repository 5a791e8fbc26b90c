import { randomBytes } from 'node:crypto';
import { addNetns } from './netns.ts';

/**
 * Network namespaces made ahead of time (loopback up, nothing else), so that starting a container does not
 * wait for `ip netns add` and its loopback: setup takes one, and the pool is refilled after a container's
 * devices are removed, off the start path. Each is fresh and used by one container only (deleted after it,
 * never recycled). Their names carry the engine's netns prefix, so the reset at open and at shutdown
 * removes the unused ones too.
 */
export class SpareNetns {
  private readonly ready: string[] = [];

  constructor(
    private readonly prefix: string,
    private readonly size: number,
  ) {}

  /** A ready netns, or undefined when there is none (the caller makes its own). */
  take(): string | undefined {
    return this.ready.pop();
  }

  /** Make netns until `size` are ready. Run under the network lock, like every netns change. */
  async fill(): Promise<void> {
    while (this.ready.length < this.size) {
      const name = `${this.prefix}s${randomBytes(6).toString('hex')}`;
      await addNetns(name);
      this.ready.push(name);
    }
  }

  /** Forget them: the reset removed every netns with the prefix. */
  clear(): void {
    this.ready.length = 0;
  }
}
