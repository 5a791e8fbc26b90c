import { promises as fs } from 'node:fs';
import { isErrno } from '../errors.ts';
import { catalogError, type CatalogLog } from './recipe.ts';

const POLL_MS = 500;
const MAX_WAIT_MS = 30 * 60_000;

/**
 * Run `work` while holding `<dir>.lock`, a pid file: two setups started at once (say, two `npm test` runs)
 * must not build into each other's scratch space. A live holder is waited for; a dead one's lock is taken.
 */
export async function withBuildLock<T>(dir: string, log: CatalogLog, work: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + MAX_WAIT_MS;
  let announced = false;
  for (;;) {
    if (await tryTake(lock)) break;
    const holder = await holderPid(lock);
    if (holder !== undefined) {
      const who = typeof holder === 'number' ? ` (pid ${holder})` : '';
      if (!announced) log(`waiting for another setup${who} that is building the catalog`);
      announced = true;
      if (Date.now() > deadline) throw catalogError(`the catalog lock ${lock} is still held${who}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    } else {
      await fs.rm(lock, { force: true }); // its holder died mid-build
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

async function tryTake(lock: string): Promise<boolean> {
  try {
    await fs.writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

/**
 * The pid in the lock, or 'starting' while a new holder has created the file but not yet written its pid
 * (for a few seconds at most); undefined when the lock is stale or our own leftover.
 */
async function holderPid(lock: string): Promise<number | 'starting' | undefined> {
  const text = await fs.readFile(lock, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  if (text === '') {
    const age = Date.now() - (await fs.stat(lock).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    return age < 10_000 ? 'starting' : undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}
