import { randomBytes } from 'node:crypto';
import { addBareNetns, checkNetnsName, ipBatch, netnsExists } from './netns.ts';

/**
 * Network namespaces made ahead of time, bare (their loopback goes up with the container's first attach, in
 * an `ip` run it makes anyway), so that starting a container does not wait for `ip netns add`: setup takes
 * one, and the pool is refilled in the same `ip` run that deletes a finished container's netns, off the
 * start path. Each is fresh and used by one container only (deleted after it, never recycled). Their names
 * carry the engine's netns prefix, so the reset at open and at shutdown removes the unused ones too.
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
      const name = this.newName();
      await addBareNetns(name);
      this.ready.push(name);
    }
  }

  /**
   * Delete a container's netns and refill the pool, in one `ip` run. Fails only
   * when `gone` is still there; a spare that could not be made is simply not ready.
   */
  async replace(gone: string): Promise<void> {
    const made = Array.from({ length: Math.max(0, this.size - this.ready.length) }, () => this.newName());
    const lines = [`netns delete ${checkNetnsName(gone)}`, ...made.map((n) => `netns add ${n}`)];
    const failed = await ipBatch(undefined, lines, { force: true }).then(() => undefined, (err: unknown) => err);
    for (const name of made) if (await netnsExists(name)) this.ready.push(name);
    if (failed !== undefined && (await netnsExists(gone))) throw failed;
  }

  /** Forget them: the reset removed every netns with the prefix. */
  clear(): void {
    this.ready.length = 0;
  }

  private newName(): string {
    return `${this.prefix}s${randomBytes(6).toString('hex')}`;
  }
}
