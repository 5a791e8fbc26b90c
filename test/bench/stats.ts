import { spawnSync } from 'node:child_process';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Wall time of one command in ms; throws if it fails. */
export function timeCommand(file: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const out = spawnSync(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (out.status !== 0) throw new Error(`${args.join(' ')} failed (${out.status}): ${out.stderr.toString().trim()}`);
  return ms;
}

/** Resident memory (KiB) of a process and all its descendants, from /proc. */
export function treeRssKiB(rootPid: number): number {
  const out = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' }).stdout;
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of rows) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const rss = new Map(rows.map(([pid, , kib]) => [pid, kib]));
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

export function row(label: string, layerlab: number, dockerd: number | undefined, unit: string): string {
  const l = `${layerlab.toFixed(1)} ${unit}`.padStart(12);
  const d = dockerd === undefined ? '—'.padStart(12) : `${dockerd.toFixed(1)} ${unit}`.padStart(12);
  const ratio = dockerd === undefined ? '' : `   ${(layerlab / dockerd).toFixed(2)}×`;
  return `${label.padEnd(44)}${l}${d}${ratio}`;
}
