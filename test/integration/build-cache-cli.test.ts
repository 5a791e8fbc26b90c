import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent, BuildRecord, CacheDecision } from '../../runtime/builder/index.ts';
import type { DockerResult } from '../helpers/engine.ts';
import { startEngine, type TestEngine } from '../helpers/engine.ts';
import { getJson } from './build-helpers.ts';
import { runScenarios, SCENARIOS } from './build-scenarios.ts';

/** The record of a scenario's build (the list is newest first), checked against the image the CLI printed. */
function recordOf(records: BuildRecord[], name: string, result: DockerResult): BuildRecord {
  const record = records[SCENARIOS.length - 1 - SCENARIOS.findIndex((s) => s.name === name)]!;
  const id = /Successfully built ([0-9a-f]{12})/.exec(result.stdout)?.[1];
  const end = record.events.find((e) => e.type === 'build-end');
  if (!id || end?.type !== 'build-end' || !end.image.startsWith(`sha256:${id}`)) throw new Error(`the record of ${name} is not the build that printed ${id}`);
  return record;
}

function decisionOf(record: BuildRecord, step: number): CacheDecision {
  const event = record.events.find((e): e is Extract<BuildEvent, { type: 'cache' }> => e.type === 'cache' && e.step === step);
  if (!event) throw new Error(`no cache decision for step ${step}`);
  return event.decision;
}

describe('classic cache rules through the real CLI, with explained decisions', () => {
  let engine: TestEngine;
  let work: string;
  let results: Map<string, { pattern: string; result: DockerResult }>;
  let records: BuildRecord[];

  beforeAll(async () => {
    engine = await startEngine('build-cache');
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-build-cache-'));
    results = await runScenarios((args) => engine.docker(args), path.join(work, 'ctx'), 'cache:1');
    const list = await getJson(engine.socket, '/layerlab/builds');
    expect(list.status).toBe(200);
    records = list.body as BuildRecord[];
  }, 180_000);

  afterAll(async () => {
    await engine?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it.each(SCENARIOS.map((s) => [s.name, s.expected]))('%s gives the pattern %s', (name, expected) => {
    expect(results.get(name)!.pattern).toBe(expected);
  });

  it('lists every build newest first and serves each one by ID', async () => {
    expect(records).toHaveLength(SCENARIOS.length);
    expect(records[0]).toEqual(recordOf(records, '--no-cache', results.get('--no-cache')!.result));
    expect(records.every((r) => r.status === 'succeeded' && r.subject === 'docker.io/library/cache:1')).toBe(true);
    const one = await getJson(engine.socket, `/layerlab/builds/${records[1]!.id}`);
    expect(one).toEqual({ status: 200, body: records[1] });
    const missing = await getJson(engine.socket, '/layerlab/builds/0123456789abcdef');
    expect(missing.status).toBe(404);
  });

  it('a one-file change names the changed file, and every later step names the step that missed first', () => {
    const record = recordOf(records, 'edit b.txt', results.get('edit b.txt')!.result);
    expect(decisionOf(record, 3).hit).toBe(true);
    const copy = decisionOf(record, 5);
    expect(copy.hit).toBe(false);
    expect(copy.reason).toEqual({ kind: 'sources-changed', added: [], removed: [], modified: [{ path: 'b.txt', old: expect.any(String), new: expect.any(String) }] });
    expect(copy.sentence).toBe('COPY b.txt /app/ missed: b.txt changed, so this step and every step after it ran again.');
    for (const step of [6, 7]) expect(decisionOf(record, step).reason).toEqual({ kind: 'parent-miss', step: 5, instruction: 'COPY b.txt /app/' });
  });

  it('chmod, build-arg and --no-cache misses are explained by their cause', () => {
    const chmod = decisionOf(recordOf(records, 'chmod a.txt', results.get('chmod a.txt')!.result), 3);
    expect(chmod.reason).toMatchObject({ kind: 'sources-changed', modified: [{ path: 'a.txt' }] });
    const arg = decisionOf(recordOf(records, 'build-arg change', results.get('build-arg change')!.result), 4);
    expect(arg.reason).toEqual({ kind: 'build-arg-changed', args: [{ name: 'V', old: '1', new: '2' }] });
    expect(arg.sentence).toContain('build argument V changed from 1 to 2');
    const noCache = decisionOf(recordOf(records, '--no-cache', results.get('--no-cache')!.result), 2);
    expect(noCache.reason).toEqual({ kind: 'no-cache' });
    const touched = recordOf(records, 'touch (mtime only)', results.get('touch (mtime only)')!.result);
    expect(touched.events.filter((e) => e.type === 'cache').every((e) => e.type === 'cache' && e.decision.hit)).toBe(true);
  });

  it('step events carry the resulting layers: a RUN that writes a file has a layer, ENV has none', () => {
    const record = recordOf(records, 'first build', results.get('first build')!.result);
    const ends = record.events.filter((e): e is Extract<BuildEvent, { type: 'step-end' }> => e.type === 'step-end');
    const byStep = new Map(ends.map((e) => [e.step, e]));
    expect(byStep.get(6)?.layer).toMatchObject({ diffId: expect.stringMatching(/^sha256:/), size: expect.any(Number) });
    expect(byStep.get(7)).toMatchObject({ layer: null, emptyLayer: true });
    expect(record.events.some((e) => e.type === 'output' && e.text.includes('a says a one'))).toBe(true);
  });
});
