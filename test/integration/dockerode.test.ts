/**
 * A second client nobody here wrote: dockerode (docker-modem) drives layerlab through the Engine API for the
 * common operations — list, create, start, logs, exec, build, remove.
 */
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../helpers/engine.ts';

let engine: TestEngine;
let docker: Docker;

beforeAll(async () => {
  engine = await startEngine('dockerode');
  docker = new Docker({ socketPath: engine.socket });
});
afterAll(async () => engine?.stop());

/** Split a multiplexed (non-TTY) stream into stdout and stderr text with dockerode's own demuxer. */
async function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise((resolve) => stream.on('end', resolve));
  return { stdout, stderr };
}

describe('dockerode against layerlab', () => {
  it('lists images and reads the engine version', async () => {
    const images = await docker.listImages();
    expect(images.flatMap((i) => i.RepoTags ?? [])).toContain('busybox:latest');
    const version = await docker.version();
    expect(version.ApiVersion).toBe('1.41');
  });

  it('creates, starts, waits for and reads the logs of a container, then removes it', async () => {
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], name: 'dockerode-c1' });
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    expect(result.StatusCode).toBe(4);
    const logs = await container.logs({ stdout: true, stderr: true, follow: true });
    expect(await demux(logs)).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    const info = await container.inspect();
    expect(info.State.ExitCode).toBe(4);
    expect(info.Name).toBe('/dockerode-c1');
    await container.remove();
    await expect(docker.getContainer('dockerode-c1').inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runs exec in a running container and reads its exit code', async () => {
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '120'] });
    await container.start();
    const exec = await container.exec({ Cmd: ['sh', '-c', 'echo from exec; exit 6'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    expect((await demux(stream)).stdout).toBe('from exec\n');
    expect((await exec.inspect()).ExitCode).toBe(6);
    await container.remove({ force: true });
  });

  it('builds an image from a context tar and runs it', async () => {
    const pack = tarStream.pack();
    pack.entry({ name: 'Dockerfile' }, 'FROM busybox\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n');
    pack.entry({ name: 'msg.txt' }, 'built by dockerode\n');
    pack.finalize();
    const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: 'dockerode/app:1' });
    const events = await new Promise<Array<{ stream?: string; error?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string }>) => (err ? reject(err) : resolve(res))),
    );
    expect(events.map((e) => e.stream ?? '').join('')).toContain('Successfully tagged dockerode/app:1');
    const container = await docker.createContainer({ Image: 'dockerode/app:1' });
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, follow: true });
    expect((await demux(logs)).stdout).toBe('built by dockerode\n');
    await container.remove();
    await docker.getImage('dockerode/app:1').remove();
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? [])).not.toContain('dockerode/app:1');
  });
});
