import { promises as fs } from 'node:fs';
import { run } from '../util/exec.ts';

/** Mount points of the engine's mount namespace (octal escapes of /proc/self/mountinfo decoded). */
export async function mountPoints(): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountPoints()).includes(dir);
}

/**
 * Unmount `dir` if it is mounted. A busy mount is retried briefly, then (with `lazy`) detached (MNT_DETACH),
 * so removal never leaves a mount behind in the engine's namespace; it goes once its last user is gone.
 */
export async function unmount(dir: string, opts: { lazy: boolean } = { lazy: true }): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!(await isMountPoint(dir))) return;
    try {
      await run('umount', [dir], { timeoutMs: 30_000 });
      continue;
    } catch {
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
  if (await isMountPoint(dir)) await run('umount', [...(opts.lazy ? ['--lazy'] : []), dir], { timeoutMs: 30_000 });
}

/** Every mount at or below `prefix`, deepest first (the order they must be unmounted in). */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return (await mountPoints()).filter((m) => m.startsWith(base)).sort((a, b) => b.length - a.length);
}
