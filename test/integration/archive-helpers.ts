import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import type { TestEngine } from '../helpers/engine.ts';

/** One entry of a hand-made tar; tar-stream writes exactly what it is told, hostile or not. */
export interface RawEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  linkname?: string;
  body?: string | Buffer;
  mode?: number;
}

/** Write a tar in memory from raw entries (GNU tar refuses to create many of the hostile ones). */
export async function tarOf(entries: RawEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const header = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: new Date(0), size: body?.length ?? 0 };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface SaveArchiveOptions {
  /** diff_id to declare (default: the true sha256 of the uncompressed layer). */
  diffId?: string;
  /** Path the manifest gives for the layer (default `layer1/layer.tar`). */
  layerPath?: string;
  /** Store the layer gzip-compressed in the archive. */
  gzipLayer?: boolean;
  tag?: string;
}

/** A docker-save archive holding one image whose single layer is `layer` (an uncompressed tar). */
export async function saveArchiveWith(layer: Buffer, opts: SaveArchiveOptions = {}): Promise<Buffer> {
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [opts.diffId ?? sha256(layer)] },
    history: [{ created: '2024-01-01T00:00:00Z', comment: 'hostile test' }],
  });
  const configName = `${sha256(config).slice(7)}.json`;
  const layerPath = opts.layerPath ?? 'layer1/layer.tar';
  const manifest = JSON.stringify([{ Config: configName, RepoTags: [opts.tag ?? 'hostile/img:1'], Layers: [layerPath] }]);
  const entries: RawEntry[] = [
    { name: configName, body: config },
    { name: 'manifest.json', body: manifest },
  ];
  if (!layerPath.startsWith('..') && !layerPath.startsWith('/')) entries.push({ name: layerPath, body: opts.gzipLayer ? gzipSync(layer) : layer });
  return tarOf(entries);
}

/**
 * Everything a failed operation must leave as it was: what `docker images -a` shows, the namespace files'
 * content, and every file name under the store's blobs, layers and namespaces (plus the scratch dir, which
 * must be empty again).
 */
export async function storeSnapshot(engine: TestEngine): Promise<Record<string, string | string[]>> {
  const images = engine.docker(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.Size}}']);
  const snap: Record<string, string | string[]> = { images: `${images.code} ${images.stdout}${images.stderr}` };
  for (const dir of ['blobs', 'layers', 'namespaces', 'tmp']) snap[dir] = await listFiles(path.join(engine.stateDir, dir));
  for (const file of snap.namespaces as string[]) {
    if (file.endsWith('.json')) snap[`namespaces/${file}`] = await fs.readFile(path.join(engine.stateDir, 'namespaces', file), 'utf8');
  }
  return snap;
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(root, { recursive: true })) out.push(String(entry));
  return out.sort();
}

/** Raw HTTP to the engine's socket, for what the CLI hides (headers, non-quiet progress). */
export function rawRequest(socket: string, method: string, url: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: url, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Entries of a tar made by tarOf, for rewriting it. */
export async function entriesOf(tar: Buffer): Promise<RawEntry[]> {
  const { default: tarStream } = await import('tar-stream');
  const extract = tarStream.extract();
  extract.end(tar);
  const out: RawEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push({ name: entry.header.name, type: entry.header.type as RawEntry['type'], linkname: entry.header.linkname ?? undefined, body: Buffer.concat(chunks) });
  }
  return out;
}
