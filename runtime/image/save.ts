import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { EngineError, invalid } from '../errors.ts';
import type { LayerRecord } from '../store/layer-store.ts';
import type { Store } from '../store/store.ts';
import type { Namespace } from '../store/namespace.ts';
import { Hasher, hexOf, type Digest } from '../util/digest.ts';
import { addEntry, addStream, type TarHeader } from '../archive/tar-writer.ts';
import { goJson, parseConfig } from './config.ts';
import { familiarName, familiarString } from './reference.ts';
import { isGzipLayer } from './media-types.ts';
import { resolveSaveNames } from './save-names.ts';
import { goTime, v1Layers } from './save-v1.ts';

/** One file or directory of the archive, in the order Docker's tar writer emits it (sorted by path). */
interface PlannedEntry {
  name: string;
  header: TarHeader;
  body?: Buffer;
  /** A layer: its blob, streamed through gunzip when stored compressed. */
  layer?: LayerSource;
}

interface LayerSource {
  blobPath: string;
  gzip: boolean;
}

interface ManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  Parent?: string;
}

/**
 * `docker save`: the images named by `names` (tags, repositories, IDs, ID prefixes) as a Docker 20.10
 * archive: `manifest.json`, `repositories`, `<config hex>.json` and `<v1id>/{VERSION,json,layer.tar}` with
 * uncompressed layers whose sha256 is the diffID. Name errors are thrown before the stream starts; the
 * archive itself is produced as it is read (compressed layers are gunzipped on the fly; nothing is buffered whole).
 * The GC lock is held shared until the stream ends, so nothing being saved can be collected meanwhile.
 */
export function saveImages(store: Store, ns: Namespace, names: string[]): Promise<Readable> {
  return new Promise((resolve, reject) => {
    void store.gcLock.shared(async () => {
      let entries: PlannedEntry[];
      try {
        entries = await planArchive(store, ns, names);
      } catch (err) {
        reject(err);
        return;
      }
      const out = writeArchive(entries);
      resolve(out);
      await finished(out).catch(() => undefined);
    });
  });
}

async function planArchive(store: Store, ns: Namespace, names: string[]): Promise<PlannedEntry[]> {
  if (names.length === 0) throw invalid('no image names given to save');
  const images = resolveSaveNames(ns, names);
  const entries = new Map<string, PlannedEntry>();
  const layerPaths = new Map<Digest, string>();
  const manifest: ManifestItem[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const [id, refs] of images) {
    const raw = await store.blobs.read(id);
    const config = parseConfig(raw);
    if (config.rootfs.diff_ids.length === 0) throw new EngineError('INTERNAL', 'empty export - not implemented');
    const mtime = new Date(Date.parse(goTime(config.created)) || 0);
    const records = await store.imageLayers(id);
    const layers = v1Layers(config);
    for (const [i, v1] of layers.entries()) {
      if (entries.has(`${v1.id}/`)) continue;
      await planLayer(store, entries, layerPaths, v1, records[i]!, mtime);
    }
    entries.set(`${hexOf(id)}.json`, fileEntry(`${hexOf(id)}.json`, raw, mtime));
    const top = layers[layers.length - 1]!.id;
    for (const ref of refs) (repositories[familiarName(ref)] ??= {})[ref.tag!] = top;
    const item: ManifestItem = { Config: `${hexOf(id)}.json`, RepoTags: refs.length > 0 ? refs.map(familiarString) : null, Layers: layers.map((l) => `${l.id}/layer.tar`) };
    const parent = ns.image(id)?.parent;
    if (parent && parent !== id && images.has(parent)) item.Parent = parent;
    manifest.push(item);
  }
  const now = new Date();
  if (Object.keys(repositories).length > 0) entries.set('repositories', fileEntry('repositories', Buffer.from(`${goMapJson(repositories)}\n`), now));
  entries.set('manifest.json', fileEntry('manifest.json', Buffer.from(`${goJson(manifest)}\n`), now));
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function planLayer(
  store: Store,
  entries: Map<string, PlannedEntry>,
  layerPaths: Map<Digest, string>,
  v1: { id: string; json: string; diffId: Digest },
  record: LayerRecord,
  mtime: Date,
): Promise<void> {
  const dir = v1.id;
  entries.set(`${dir}/`, { name: `${dir}/`, header: { name: `${dir}/`, type: 'directory', mode: 0o755, mtime, ...ROOT } });
  entries.set(`${dir}/VERSION`, fileEntry(`${dir}/VERSION`, Buffer.from('1.0'), mtime));
  entries.set(`${dir}/json`, fileEntry(`${dir}/json`, Buffer.from(v1.json), mtime));
  const name = `${dir}/layer.tar`;
  const earlier = layerPaths.get(v1.diffId);
  if (earlier) {
    // The same content under another v1 ID: Docker writes a relative symlink to the first copy.
    entries.set(name, { name, header: { name, type: 'symlink', linkname: `../${earlier}`, mode: 0o777, mtime, ...ROOT } });
    return;
  }
  const layer = { blobPath: store.blobs.path(record.blob.digest), gzip: isGzipLayer(record.blob.mediaType) };
  const size = await measureLayer(layer, v1.diffId);
  entries.set(name, { name, header: { name, type: 'file', size, mode: 0o644, mtime, ...ROOT }, layer });
  layerPaths.set(v1.diffId, name);
}

/**
 * Uncompressed size of a stored layer, needed up front for its tar header. Reading it also proves the blob
 * still matches its diffID, so a damaged store fails the save before any byte is sent.
 */
async function measureLayer(layer: LayerSource, diffId: Digest): Promise<number> {
  const hasher = new Hasher();
  for await (const chunk of layerTar(layer)) hasher.update(chunk as Buffer);
  const actual = hasher.digest();
  if (actual !== diffId) throw new EngineError('INTERNAL', `layer ${diffId} is damaged in the store (its content hashes to ${actual})`);
  return hasher.size;
}

function writeArchive(entries: PlannedEntry[]): Readable {
  const pack = tarStream.pack();
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  pack.pipe(out);
  // A client that goes away mid-download stops the writer (and closes the layer it was reading).
  out.on('close', () => pack.destroy());
  void (async () => {
    for (const entry of entries) {
      if (out.destroyed) return;
      if (entry.layer) await addStream(pack, entry.header, layerTar(entry.layer));
      else await addEntry(pack, entry.header, entry.body);
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return out;
}

/** A stored layer as its uncompressed tar. */
function layerTar(layer: LayerSource): Readable {
  const source = createReadStream(layer.blobPath);
  if (!layer.gzip) return source;
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  // pipe() does not close the file when the reader stops early; this does.
  gunzip.on('close', () => source.destroy());
  return source.pipe(gunzip);
}

const ROOT = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

function fileEntry(name: string, body: Buffer, mtime: Date): PlannedEntry {
  return { name, header: { name, type: 'file', mode: 0o644, mtime, ...ROOT }, body };
}

/** Go encodes maps with keys sorted bytewise (JS objects would put integer-like keys first). */
function goMapJson(value: Record<string, unknown>): string {
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const encode = (v: unknown) => (typeof v === 'object' && v !== null ? goMapJson(v as Record<string, unknown>) : goJson(v));
  return `{${keys.map((k) => `${goJson(k)}:${encode(value[k])}`).join(',')}}`;
}
