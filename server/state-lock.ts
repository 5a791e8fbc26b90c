import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * One engine process owns a state directory: its in-process locks are what make concurrent operations on
 * the store safe. A second process gets a clear error instead of corrupting shared state.
 */
export async function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'engine.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`state directory ${stateDir} is in use by another layerlab process (pid ${pid})`);
      }
      await fs.rm(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`could not lock state directory ${stateDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
