import type { Engine } from '../engine.ts';
import { matchPruneLabels, validateFilters, type Filters } from '../image/filters.ts';
import { untilFromFilters } from '../image/timestamp.ts';
import { containerSizes } from './inspect.ts';
import { timeMs } from './status.ts';

/**
 * `docker container prune`: remove every stopped container matching the `until` and `label` filters;
 * the space reclaimed is what their writable layers held. `ContainersDeleted` is null when none went.
 */
export async function pruneContainers(engine: Engine, filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  validateFilters(filters, ['until', 'label', 'label!']);
  const until = untilFromFilters(filters.get('until'));
  const deleted: string[] = [];
  let space = 0;
  for (const { record, state } of engine.containers.list()) {
    if (state.Running || state.Status === 'removing') continue;
    if (until !== undefined && timeMs(record.Created) >= until) continue;
    if (!matchPruneLabels(filters, record.Config.Labels)) continue;
    const { SizeRw } = await containerSizes(engine, record, engine.containers.pathsOf(record.Id));
    try {
      await engine.containers.remove(record.Id);
    } catch {
      continue;
    }
    deleted.push(record.Id);
    space += SizeRw;
  }
  return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: space };
}
