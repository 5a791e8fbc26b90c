/**
 * The compatibility suite (`npm run test:compat`, part of `npm test`): the same docker CLI commands against
 * layerlab and a real dockerd, outputs normalised and compared. Without a dockerd, layerlab's outputs are
 * compared with outputs recorded from one (test/compat/recorded/, written by this suite with
 * LAYERLAB_COMPAT_RECORD=1, never by hand).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Normalizer } from './normalize.ts';
import type { Outcome, Script } from './script.ts';
import { SCRIPTS } from './scripts/index.ts';
import { DOCKER_20, DOCKER_28 } from '../helpers/engine.ts';
import { dockerdTarget, layerlabTarget, type Target } from './targets.ts';

const RECORD = process.env.LAYERLAB_COMPAT_RECORD === '1';
/** Compare with the recorded outputs even when a dockerd could start (to check the recordings themselves). */
const RECORDED_ONLY = process.env.LAYERLAB_COMPAT_RECORDED === '1';
/** The CLIs every script runs with: Debian's 20.10 client and, when the machine has one, a current one. */
const CLIS: Array<[label: string, file: string]> = [['cli20', DOCKER_20], ...(DOCKER_28 ? [['cli28', DOCKER_28] as [string, string]] : [])];
const recordedPath = (s: Script, cli: string) => path.join(import.meta.dirname, 'recorded', `${s.name}.${cli}.json`);
const notes: string[] = [];
const report: Array<{ script: string; run: number; matched: number; differs: string[] }> = [];

let layerlab: Awaited<ReturnType<typeof layerlabTarget>>;
let dockerd: Target | undefined;
let imageNames: Map<string, string>;

beforeAll(async () => {
  layerlab = await layerlabTarget();
  dockerd = RECORDED_ONLY ? undefined : await dockerdTarget(layerlab.engine, (n) => notes.push(n));
  const rows = layerlab.engine.docker(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']).stdout.trim().split('\n');
  imageNames = new Map(rows.map((r) => r.replace('sha256:', '').split(' ') as [string, string]));
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([dockerd?.stop(), layerlab?.stop()]);
  const lines = report.map((r) => `  ${r.script}: ${r.matched}/${r.run} matched${r.differs.length ? `; intentional differences: ${r.differs.join('; ')}` : ''}`);
  console.log(`compatibility report (against ${dockerd ? 'a live dockerd' : 'recorded dockerd outputs'}):\n${lines.join('\n')}${notes.map((n) => `\nnote: ${n}`).join('')}`);
});

function runAll(target: Target, script: Script, cli: string): Outcome[] {
  const normalizer = new Normalizer(imageNames);
  // A fresh working directory per script and CLI: a build context holds exactly the script's files.
  const dir = mkdtempSync(path.join(target.cwd, `${script.name}-`));
  for (const [name, content] of Object.entries(script.files ?? {})) writeFileSync(path.join(dir, name), content);
  return script.steps.map((step) => {
    for (const [name, content] of Object.entries(step.write ?? {})) writeFileSync(path.join(dir, name), content);
    const o = target.run(step, cli, dir);
    return { ...o, stdout: normalizer.apply(o.stdout), stderr: normalizer.apply(o.stderr) };
  });
}

/** Lines as a sorted list: equal when both printed the same rows in any order. */
function sortRows(text: string): string {
  return text.split('\n').sort().join('\n');
}

const cases = SCRIPTS.flatMap((s) => CLIS.map(([label, file]) => [`${s.name} (${label})`, s, label, file] as const));

describe.each(cases)('%s', (_name, script, cliLabel, cli) => {
  it('matches Docker', () => {
    const ours = runAll(layerlab, script, cli);
    let theirs: Outcome[];
    const recorded = recordedPath(script, cliLabel);
    if (dockerd) {
      theirs = runAll(dockerd, script, cli);
      if (RECORD) writeFileSync(recorded, `${JSON.stringify(theirs, null, 1)}\n`);
    } else {
      if (!existsSync(recorded)) throw new Error(`no dockerd and no recorded outputs for ${script.name} with ${cliLabel}`);
      theirs = JSON.parse(readFileSync(recorded, 'utf8')) as Outcome[];
    }
    const entry = { script: `${script.name} (${cliLabel})`, run: 0, matched: 0, differs: [] as string[] };
    const mismatches: Array<{ command: string; layerlab: unknown; dockerd: unknown }> = [];
    report.push(entry);
    script.steps.forEach((step, i) => {
      entry.run++;
      const a = ours[i]!;
      const b = theirs[i]!;
      if (step.differs) {
        entry.differs.push(`docker ${step.args.join(' ')} (${step.differs})`);
        return;
      }
      const view = (o: Outcome) => (step.exitCodeOnly ? { args: o.args, code: o.code } : step.unordered ? { ...o, stdout: sortRows(o.stdout) } : o);
      if (isDeepStrictEqual(view(a), view(b))) entry.matched++;
      else mismatches.push({ command: `docker ${step.args.join(' ')}`, layerlab: view(a), dockerd: view(b) });
    });
    expect(mismatches).toEqual([]);
  });
});
