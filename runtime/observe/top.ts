import type { ContainerRuntime } from '../container/runtime.ts';
import { invalid } from '../errors.ts';
import { run } from '../util/exec.ts';

/** `GET /containers/{id}/top`'s reply. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/**
 * `docker top [ps options]`: the HOST's `ps` (never a binary from the container, CVE-2019-14271) over all
 * processes, then only the rows whose PID belongs to the container (runc ps), as dockerd does. The options
 * go to ps as separate arguments, never through a shell.
 */
export async function containerTop(runtime: ContainerRuntime, idOrName: string, psArgs = '-ef'): Promise<TopResult> {
  const pids = new Set((await runtime.processes(idOrName)).map(String));
  const args = psArgs.split(/\s+/).filter(Boolean);
  if (args.length > 20 || psArgs.length > 200) throw invalid('ps_args is too long');
  const output = await run('ps', args, { timeoutMs: 10_000 }).catch((err: Error) => {
    throw invalid(`Error running ps: ${err.message}`);
  });
  return parsePs(output, pids);
}

/** dockerd's parsePSOutput: the PID column found by title, the last column keeps its spaces. */
export function parsePs(output: string, pids: ReadonlySet<string>): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw invalid(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(row[pidIndex] ?? '')) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
