import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import type { ImageConfig } from '../../runtime/image/config.ts';
import { REF_NAME_ANNOTATION, type LayoutIndex, type Manifest } from '../../runtime/catalog/layout.ts';
import type { WrittenLayer } from '../../runtime/catalog/oci-writer.ts';

/** One tar entry of a layer, as an independent reader (tar-stream, not the engine's reader) sees it. */
export interface LayerEntry {
  name: string;
  type: string;
  mode: number;
  size: number;
  linkname?: string;
  uid: number;
  gid: number;
  /** Content, for the files asked for by name. */
  content?: Buffer;
}

export interface LayerRead {
  entries: LayerEntry[];
  /** sha256 of the uncompressed tar, `sha256:…`. */
  diffId: string;
}

/** Gunzip and list a layer blob, hashing the tar as it goes; keep the content of the files named in `keep`. */
export async function readLayer(file: string, keep: readonly string[] = []): Promise<LayerRead> {
  const hash = createHash('sha256');
  const entries: LayerEntry[] = [];
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      if (keep.includes(header.name)) chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      entries.push({
        name: header.name,
        type: header.type ?? 'file',
        mode: header.mode ?? 0,
        size: header.size ?? 0,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        ...(header.linkname ? { linkname: header.linkname } : {}),
        ...(keep.includes(header.name) ? { content: Buffer.concat(chunks) } : {}),
      });
      next();
    });
    stream.resume();
  });
  const gunzip = createGunzip();
  gunzip.on('data', (c: Buffer) => hash.update(c));
  await pipeline(createReadStream(file), gunzip, extract);
  return { entries, diffId: `sha256:${hash.digest('hex')}` };
}

/** An image of a layout, with its manifest and config parsed. */
export interface LayoutImage {
  ref: string;
  manifestDigest: string;
  manifest: Manifest;
  configBytes: Buffer;
  config: ImageConfig;
}

export function blobPath(layout: string, digest: string): string {
  return path.join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

export function sha256Hex(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Every image the layout's index names, in index order. */
export async function readLayoutImages(layout: string): Promise<LayoutImage[]> {
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as LayoutIndex;
  const out: LayoutImage[] = [];
  for (const d of index.manifests) {
    const manifest = JSON.parse(await fs.readFile(blobPath(layout, d.digest), 'utf8')) as Manifest;
    const configBytes = await fs.readFile(blobPath(layout, manifest.config.digest));
    out.push({
      ref: d.annotations?.[REF_NAME_ANNOTATION] ?? '',
      manifestDigest: d.digest,
      manifest,
      configBytes,
      config: JSON.parse(configBytes.toString()) as ImageConfig,
    });
  }
  return out;
}

/** A minimal image config over written layers, one history entry each (for layouts made in tests). */
export function configFor(layers: readonly WrittenLayer[]): ImageConfig {
  return {
    architecture: 'amd64',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    created: '2024-01-01T00:00:00Z',
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
}
