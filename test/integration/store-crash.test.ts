import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../runtime/store/store.ts';
import { chainIds } from '../../runtime/util/digest.ts';
import { REPO_ROOT, waitFor } from '../helpers/engine.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-crash-'));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** Start the writer, let it work for `ms`, then SIGKILL it mid-operation. */
async function writeThenKill(stateDir: string, ms: number): Promise<void> {
  // The writer dies mid-write by design: its scratch files go under this test's root, which is removed after.
  const scratch = path.join(root, 'scratch');
  await fs.mkdir(scratch, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/helpers/store-writer.ts'), stateDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TMPDIR: scratch },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('ready') || child.exitCode !== null, 30_000);
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('crash safety', () => {
  it('reopens consistently after being killed at arbitrary points', async () => {
    const stateDir = path.join(root, 'state');
    for (const ms of [150, 420, 90, 700, 260]) {
      await writeThenKill(stateDir, ms);
      const store = await Store.open(stateDir);
      const ns = await store.namespace('default');
      expect(ns.imageIds().length).toBeGreaterThan(0); // the writer got somewhere before it died
      // Every tagged image and every image the namespace holds is complete: config, layers, blobs.
      for (const id of ns.imageIds()) {
        const config = await store.imageConfig(id);
        for (const chainId of chainIds(config.rootfs.diff_ids)) {
          const layer = store.layers.require(chainId);
          const blob = await fs.readFile(store.blobs.path(layer.blob.digest));
          expect(`sha256:${createHash('sha256').update(blob).digest('hex')}`).toBe(layer.blob.digest);
        }
      }
      for (const target of Object.values(ns.snapshot().tags)) expect(ns.hasImage(target)).toBe(true);
      // No temp files survive a reopen.
      const leftovers = await findTemps(stateDir);
      expect(leftovers).toEqual([]);
    }
  }, 120_000);
});

async function findTemps(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('.tmp-')) out.push(full);
    else if (entry.isDirectory() && entry.name !== 'diff') out.push(...(await findTemps(full)));
  }
  return out;
}
