import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ContainerRuntime, type RuntimeOptions } from '../../runtime/container/runtime.ts';
import type { ContainerConfig } from '../../runtime/image/config.ts';
import { registerLayerFile } from '../../runtime/image/layer-import.ts';
import { Store } from '../../runtime/store/store.ts';
import type { Digest } from '../../runtime/util/digest.ts';
import { makeTree, tarTree } from '../helpers/images.ts';

const BUSYBOX = '/usr/bin/busybox';

/** The static probe (test/integration/container-probe.c), compiled once per source version. */
export function probeBinary(): string {
  const src = path.join(import.meta.dirname, 'container-probe.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const out = path.join(os.tmpdir(), `layerlab-probe-${hash}`);
  if (!existsSync(out)) execFileSync('gcc', ['-static', '-O2', '-o', out, src]);
  return out;
}

/** A busybox-static image with passwd/group entries and the probe; `config` becomes the image config. */
export async function makeBusyboxImage(store: Store, config: ContainerConfig = { Cmd: ['sh'] }): Promise<Digest> {
  const root = await makeTree({
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nlearner:x:1000:1000::/home/learner:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    'etc/group': 'root:x:0:\nstaff:x:50:learner\nlearner:x:1000:\nnogroup:x:65534:\n',
    'root/.keep': '',
    'tmp/.keep': '',
  });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.mkdir(path.join(root, 'bin'));
  await fs.copyFile(BUSYBOX, path.join(root, 'bin/busybox'));
  await fs.copyFile(probeBinary(), path.join(root, 'bin/probe'));
  await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
  await fs.chmod(path.join(root, 'bin/probe'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) await fs.symlink('busybox', path.join(root, 'bin', applet));
  const tar = await tarTree(root, path.join(root, '..', `${path.basename(root)}.tar`));
  const layer = await registerLayerFile(store, null, tar);
  await fs.rm(root, { recursive: true, force: true });
  await fs.rm(tar, { force: true });
  return store.putImageConfig({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...config },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created_by: 'layerlab test busybox' }],
  });
}

export interface TestRuntime {
  rt: ContainerRuntime;
  store: Store;
  stateDir: string;
  image: Digest;
  /** Close and reopen the runtime on the same state (an engine restart). */
  reopen(opts?: Partial<RuntimeOptions>): Promise<ContainerRuntime>;
  cleanup(): Promise<void>;
}

/** A store with the busybox image and a runtime over a fresh state dir, with a small disk quota. */
export async function openTestRuntime(name: string, opts: Partial<RuntimeOptions> = {}): Promise<TestRuntime> {
  const base = mkdtempSync(path.join(os.tmpdir(), `layerlab-${name}-`));
  const store = await Store.open(path.join(base, 'store'));
  const image = await makeBusyboxImage(store);
  const stateDir = path.join(base, 'engine');
  const options: RuntimeOptions = { store, stateDir, limits: { diskQuotaBytes: 64 * 1024 * 1024 }, ...opts };
  const t: TestRuntime = {
    rt: await ContainerRuntime.open(options),
    store,
    stateDir,
    image,
    async reopen(more = {}) {
      t.rt = await ContainerRuntime.open({ ...options, ...more });
      return t.rt;
    },
    async cleanup() {
      await t.rt.close();
      await fs.rm(base, { recursive: true, force: true });
    },
  };
  return t;
}

/** Everything a stream yields, as text. */
export async function collect(stream: Readable | null): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

export interface RunResult {
  id: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** create + attach + start + wait, as `docker run` does; the container is left for inspection. */
export async function runContainer(
  t: TestRuntime,
  cmd: string[],
  extra: { config?: ContainerConfig; hostConfig?: Record<string, unknown>; stdin?: string; name?: string } = {},
): Promise<RunResult> {
  const { Id } = await t.rt.create({
    image: t.image,
    ...(extra.name ? { name: extra.name } : {}),
    config: { Cmd: cmd, ...(extra.stdin !== undefined ? { OpenStdin: true, StdinOnce: true, AttachStdin: true } : {}), ...extra.config },
    hostConfig: extra.hostConfig ?? {},
  });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input = extra.stdin !== undefined ? Readable.from([Buffer.from(extra.stdin)]) : undefined;
  const handle = t.rt.attach(Id, { stdout, stderr, ...(input ? { stdin: input } : {}) });
  const out = collect(stdout);
  const err = collect(stderr);
  const exit = t.rt.wait(Id, 'next-exit');
  await t.rt.start(Id);
  const { StatusCode } = await exit;
  await handle.done;
  stdout.end();
  stderr.end();
  return { id: Id, code: StatusCode, stdout: await out, stderr: await err };
}
