import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { catalogError, type CatalogLog } from './recipe.ts';

/**
 * Run a host tool by argv (never through a shell) and pass each line it prints to `log` as it comes, for
 * long steps such as mmdebstrap whose progress the person running setup should see. Rejects with the last
 * lines of output when the tool fails or runs past `timeoutMs`.
 */
export function runLogged(file: string, args: readonly string[], log: CatalogLog, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGTERM' });
    const tail: string[] = [];
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 5) tail.shift();
      log(line);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (err) => reject(catalogError(`${file} could not start: ${err.message}`, err)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(catalogError(`${file} ${args.slice(0, 4).join(' ')} failed (${signal ?? `exit ${code}`}): ${tail.join(' | ')}`));
    });
  });
}
