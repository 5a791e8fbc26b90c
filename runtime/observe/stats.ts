import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRuntime } from '../container/runtime.ts';
import { rfc3339Nano, nowMicros } from '../container/json-log.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
const NANOS_PER_TICK = 10_000_000;
const ZERO_TIME = '0001-01-01T00:00:00Z';

interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

interface Sample {
  read: string;
  pids_stats: { current?: number; limit?: number };
  cpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; limit?: number };
  blkio_stats: { io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }> | null };
  networks?: Record<string, Record<string, number>>;
}

/** One `GET /containers/{id}/stats` object (engine-api-facts §7.31). */
export type StatsJson = Sample & { preread: string; precpu_stats: CpuStats; num_procs: 0; storage_stats: Record<string, never>; name: string; id: string };

/**
 * The stats a container's cgroups (v1: cpuacct, memory, pids, blkio) and network namespace show now. A
 * container that is not running gives dockerd's empty sample (zero times, zero counters).
 */
export async function sampleStats(runtime: ContainerRuntime, idOrName: string): Promise<Sample> {
  const { record, state } = runtime.inspect(idOrName);
  if (!state.Running) return emptySample();
  const cg = (controller: string, file: string) => path.join(CGROUP_ROOT, controller, record.CgroupPath, file);
  const [usage, percpu, cpuStat, throttle, memUsage, memMax, memStat, memLimit, pidsCur, pidsMax, blkio, system, net] = await Promise.all([
    num(cg('cpuacct', 'cpuacct.usage')),
    readText(cg('cpuacct', 'cpuacct.usage_percpu')).then((t) => t.trim().split(/\s+/).filter(Boolean).map(Number)),
    keyed(cg('cpuacct', 'cpuacct.stat')),
    keyed(cg('cpu', 'cpu.stat')),
    num(cg('memory', 'memory.usage_in_bytes')),
    num(cg('memory', 'memory.max_usage_in_bytes')),
    keyed(cg('memory', 'memory.stat')),
    num(cg('memory', 'memory.limit_in_bytes')),
    num(cg('pids', 'pids.current')),
    readText(cg('pids', 'pids.max')).then((t) => (t.trim() === 'max' ? 0 : Number(t))),
    blkioBytes(cg('blkio', 'blkio.throttle.io_service_bytes_recursive')),
    systemCpuNanos(),
    networks(state.Pid),
  ]);
  return {
    read: rfc3339Nano(nowMicros()),
    pids_stats: { current: pidsCur, ...(pidsMax ? { limit: pidsMax } : {}) },
    cpu_stats: {
      cpu_usage: { total_usage: usage, percpu_usage: percpu, usage_in_kernelmode: (cpuStat.system ?? 0) * NANOS_PER_TICK, usage_in_usermode: (cpuStat.user ?? 0) * NANOS_PER_TICK },
      system_cpu_usage: system,
      online_cpus: os.cpus().length,
      throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
    },
    memory_stats: { usage: memUsage, max_usage: memMax, stats: memStat, limit: memLimit },
    blkio_stats: { io_service_bytes_recursive: blkio },
    ...(net ? { networks: net } : {}),
  };
}

/** The reply object: this sample with the previous one as `pre…` (what the CLI's CPU % is computed from). */
export function statsJson(current: Sample, previous: Sample | undefined, record: { Id: string; Name: string }): StatsJson {
  return {
    ...current,
    preread: previous?.read ?? ZERO_TIME,
    precpu_stats: previous?.cpu_stats ?? emptySample().cpu_stats,
    num_procs: 0,
    storage_stats: {},
    name: record.Name,
    id: record.Id,
  };
}

function emptySample(): Sample {
  return {
    read: ZERO_TIME,
    pids_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, percpu_usage: [], usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {},
    blkio_stats: { io_service_bytes_recursive: null },
  };
}

async function readText(file: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(() => '');
}

async function num(file: string): Promise<number> {
  return Number((await readText(file)).trim()) || 0;
}

/** `key value` lines (cpuacct.stat, cpu.stat, memory.stat). */
async function keyed(file: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await readText(file)).split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

async function blkioBytes(file: string): Promise<Array<{ major: number; minor: number; op: string; value: number }>> {
  const out = [];
  for (const line of (await readText(file)).split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** dockerd's system_cpu_usage: the `cpu` line of /proc/stat (first 7 fields) in nanoseconds. */
async function systemCpuNanos(): Promise<number> {
  const line = (await readText('/proc/stat')).split('\n').find((l) => l.startsWith('cpu ')) ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return ticks * NANOS_PER_TICK;
}

/** Per-interface counters from the container's network namespace (the host reads /proc/<pid>/net/dev). */
async function networks(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
  const text = await readText(`/proc/${pid}/net/dev`);
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
