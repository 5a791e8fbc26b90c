import type { StepRecord } from '../events/build-log.ts';
import type { MissReason } from '../events/types.ts';

export interface MissContext {
  noCache: boolean;
  /** The first step of this build that missed, if any did before this one. */
  firstMiss?: { step: number; instruction: string };
  current: StepRecord;
  /** The step at the same position in the previous build of this Dockerfile/tag. */
  previous?: StepRecord;
  /** Whether there was a previous build at all. */
  hadPreviousBuild: boolean;
}

const AFTER = 'so this step and every step after it ran again';

/** Decide why a step missed the cache, in order of what a learner should look at first. */
export function explainMiss(ctx: MissContext): { reason: MissReason; sentence: string } {
  const name = `${ctx.current.instruction}`;
  const { previous, current } = ctx;
  if (ctx.noCache) return { reason: { kind: 'no-cache' }, sentence: `${name} ran because the build used --no-cache: no step is taken from the cache.` };
  if (ctx.firstMiss) {
    const { step, instruction } = ctx.firstMiss;
    return {
      reason: { kind: 'parent-miss', step, instruction },
      sentence: `${name} ran again because step ${step} (${instruction}) missed the cache, and a miss invalidates every step after it.`,
    };
  }
  if (!previous) {
    if (!ctx.hadPreviousBuild) return { reason: { kind: 'not-cached', previous: false }, sentence: `${name} ran: there is no earlier build of this Dockerfile whose result could be reused.` };
    return { reason: { kind: 'instruction-changed', old: null, new: current.instruction }, sentence: `${name} missed: the previous build had no step here, ${AFTER}.` };
  }
  if (previous.instruction !== current.instruction) {
    return { reason: { kind: 'instruction-changed', old: previous.instruction, new: current.instruction }, sentence: `${name} missed: this step was ${previous.instruction} in the previous build, ${AFTER}.` };
  }
  if (current.index === 1 && previous.base !== current.base && current.base !== undefined) {
    return { reason: { kind: 'base-changed', old: previous.base ?? null, new: current.base ?? '' }, sentence: `${name} missed: the base image changed since the previous build, ${AFTER}.` };
  }
  if (current.files && previous.files) {
    const diff = diffFiles(previous.files, current.files);
    if (diff.added.length + diff.removed.length + diff.modified.length > 0) {
      return { reason: { kind: 'sources-changed', ...diff }, sentence: `${name} missed: ${describeFiles(diff)}, ${AFTER}.` };
    }
  }
  const args = diffArgs(previous.buildArgs, current.buildArgs);
  if (args.length > 0) {
    const what = args.map((a) => `build argument ${a.name} ${a.old === null ? `was set to ${a.new}` : a.new === null ? `was unset (was ${a.old})` : `changed from ${a.old} to ${a.new}`}`);
    return { reason: { kind: 'build-arg-changed', args }, sentence: `${name} missed: ${what.join(' and ')}, ${AFTER}.` };
  }
  return { reason: { kind: 'not-cached', previous: true }, sentence: `${name} missed: the result of the previous build is no longer in the cache (its image was removed), ${AFTER}.` };
}

/** The sentence for a hit. */
export function explainHit(instruction: string): string {
  return `${instruction} was taken from the cache: same parent image and same inputs as an earlier build.`;
}

function diffFiles(old: Record<string, string>, now: Record<string, string>) {
  const added = Object.keys(now).filter((p) => !(p in old)).sort();
  const removed = Object.keys(old).filter((p) => !(p in now)).sort();
  const modified = Object.keys(now)
    .filter((p) => p in old && old[p] !== now[p])
    .sort()
    .map((p) => ({ path: p, old: old[p]!, new: now[p]! }));
  return { added, removed, modified };
}

function describeFiles(diff: ReturnType<typeof diffFiles>): string {
  const parts: string[] = [];
  if (diff.modified.length) parts.push(`${names(diff.modified.map((m) => m.path))} changed`);
  if (diff.added.length) parts.push(`${names(diff.added)} ${diff.added.length === 1 ? 'was' : 'were'} added`);
  if (diff.removed.length) parts.push(`${names(diff.removed)} ${diff.removed.length === 1 ? 'was' : 'were'} removed`);
  return parts.join('; ');
}

function names(list: string[]): string {
  if (list.length <= 3) return list.join(list.length === 2 ? ' and ' : ', ');
  return `${list.slice(0, 3).join(', ')} and ${list.length - 3} more`;
}

function diffArgs(old: Record<string, string>, now: Record<string, string>) {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
  return keys.filter((k) => old[k] !== now[k]).map((k) => ({ name: k, old: old[k] ?? null, new: now[k] ?? null }));
}
