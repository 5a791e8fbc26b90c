import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDockerd, type ComparisonDaemon } from '../helpers/dockerd.ts';
import { CATALOG_DIR, DOCKER_20, startEngine, type TestEngine } from '../helpers/engine.ts';
import type { Outcome, Step } from './script.ts';

/** The images every compatibility run starts with, on both targets. */
export const BASE_IMAGES = ['busybox:latest', 'hello-world:latest'];

export interface Target {
  name: 'layerlab' | 'dockerd';
  /** Scratch space for the CLI's working directories (one per script run). */
  cwd: string;
  /** Run a step with the given CLI in `dir` (relative paths in steps — save -o, build contexts — land there). */
  run(step: Step, cli: string, dir: string): Outcome;
  stop(): Promise<void>;
}

function cliOn(socket: string, home: string) {
  return (step: Step, cli: string, dir: string): Outcome => {
    const out = spawnSync(cli, step.args, {
      cwd: dir,
      input: step.input,
      env: { PATH: process.env.PATH, HOME: home, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(home, '.docker') },
      timeout: 60_000,
      encoding: 'utf8',
    });
    return { args: step.args, code: out.status ?? -1, stdout: out.stdout ?? '', stderr: out.stderr ?? '' };
  };
}

/**
 * layerlab with a catalog of just BASE_IMAGES (a filtered index over the machine's catalog blobs), so that
 * `docker images` lists the same set on both targets.
 */
export async function layerlabTarget(): Promise<Target & { engine: TestEngine }> {
  const catalog = mkdtempSync(path.join(os.tmpdir(), 'layerlab-compat-catalog-'));
  const index = JSON.parse(await fs.readFile(path.join(CATALOG_DIR, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  index.manifests = index.manifests.filter((m) => BASE_IMAGES.some((n) => m.annotations?.['io.containerd.image.name'] === `docker.io/library/${n}`));
  await fs.writeFile(path.join(catalog, 'index.json'), JSON.stringify(index));
  await fs.writeFile(path.join(catalog, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await fs.symlink(path.join(CATALOG_DIR, 'blobs'), path.join(catalog, 'blobs'));
  const engine = await startEngine('compat', { catalogDir: catalog });
  const home = mkdtempSync(path.join(os.tmpdir(), 'layerlab-compat-home-'));
  return {
    name: 'layerlab',
    engine,
    cwd: home,
    run: cliOn(engine.socket, home),
    async stop() {
      await engine.stop();
      await fs.rm(catalog, { recursive: true, force: true });
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** A real dockerd holding exactly the images layerlab holds (saved from layerlab, so the IDs are equal). */
export async function dockerdTarget(from: TestEngine, note: (s: string) => void): Promise<Target | undefined> {
  const daemon: ComparisonDaemon | undefined = await startDockerd({ name: `compat-${process.pid}` }, note);
  if (!daemon) return undefined;
  const home = mkdtempSync(path.join(os.tmpdir(), 'layerlab-compat-home-'));
  const tar = path.join(home, 'base.tar');
  const save = from.docker(['save', '-o', tar, ...BASE_IMAGES]);
  const load = spawnSync(DOCKER_20, ['-H', `unix://${daemon.socket}`, 'load', '-i', tar], { encoding: 'utf8' });
  if (save.code !== 0 || load.status !== 0) {
    await daemon.stop();
    throw new Error(`could not give dockerd the base images: ${save.stderr}${load.stderr}`);
  }
  await fs.rm(tar);
  return {
    name: 'dockerd',
    cwd: home,
    run: cliOn(daemon.socket, home),
    async stop() {
      await daemon.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
