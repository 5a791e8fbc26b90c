import os from 'node:os';
import { quote } from '../archive/tar-path.ts';
import { invalid } from '../errors.ts';
import { sha256, type Digest } from '../util/digest.ts';
import { parseConfig, type ImageConfig } from './config.ts';
import type { ArchiveFile, ReceivedArchive } from './load-archive.ts';
import { parseReference, type Reference } from './reference.ts';

/** One image an archive holds, checked and ready to register: nothing here has touched the store. */
export interface ImagePlan {
  /** The config's name in the archive, for messages. */
  configName: string;
  config: Buffer;
  parsed: ImageConfig;
  /** Image ID: sha256 of the exact config bytes. */
  id: Digest;
  /** Layer files, base first, one per diff_id. */
  layers: Array<{ name: string; data: ArchiveFile }>;
  tags: Reference[];
  /** The `Parent` a docker-save manifest declares, if any. */
  parent?: Digest;
}

interface ManifestItem {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
  Parent?: unknown;
}

/**
 * The images a docker-save `manifest.json` lists (every Docker version, including ≥25 whose entries point into
 * `blobs/`). Configs and blobs whose names are digests are verified here; layers are verified against the
 * diff_ids later, as they are registered.
 */
export async function fromDockerManifest(archive: ReceivedArchive): Promise<ImagePlan[]> {
  const items = parseJson(await archive.read('manifest.json', 'manifest'), 'manifest.json');
  if (!Array.isArray(items) || items.length === 0) throw invalid('invalid image archive: manifest.json lists no images');
  const plans: ImagePlan[] = [];
  for (const raw of items as ManifestItem[]) {
    if (typeof raw !== 'object' || raw === null || typeof raw.Config !== 'string' || !isStringList(raw.Layers)) {
      throw invalid('invalid image archive: manifest.json entries need a Config name and a Layers list');
    }
    const config = await archive.read(raw.Config, 'config');
    checkNamedDigest(raw.Config, sha256(config), 'config');
    const layers = raw.Layers.map((name) => {
      const data = archive.file(name, 'layer');
      checkNamedDigest(name, data.digest, 'layer');
      return { name, data };
    });
    const tags = parseRepoTags(raw.RepoTags);
    const parent = typeof raw.Parent === 'string' && /^sha256:[a-f0-9]{64}$/.test(raw.Parent) ? (raw.Parent as Digest) : undefined;
    plans.push(makePlan(raw.Config, config, layers, tags, parent));
  }
  return plans;
}

/** Check a config and its layer list, as moby's loader does, and compute the image ID. */
export function makePlan(
  configName: string,
  config: Buffer,
  layers: ImagePlan['layers'],
  tags: Reference[],
  parent?: Digest,
): ImagePlan {
  let parsed: ImageConfig;
  try {
    parsed = parseConfig(config);
  } catch (err) {
    throw invalid(`invalid image config ${quote(configName)}: ${(err as Error).message}`, err);
  }
  if (parsed.os !== 'linux') throw invalid(`cannot load ${parsed.os} image on linux`);
  if (layers.length !== parsed.rootfs.diff_ids.length) {
    throw invalid(`invalid manifest, layers length mismatch: expected ${layers.length}, got ${parsed.rootfs.diff_ids.length}`);
  }
  return { configName, config, parsed, id: sha256(config), layers, tags, ...(parent ? { parent } : {}) };
}

/** `RepoTags` must be tagged names (moby: `invalid tag "x"` otherwise). */
function parseRepoTags(value: unknown): Reference[] {
  if (value === undefined || value === null) return [];
  if (!isStringList(value)) throw invalid('invalid image archive: RepoTags must be a list of names');
  return value.map((name) => {
    const ref = parseReference(name);
    if (ref.tag === undefined || ref.digest) throw invalid(`invalid tag ${JSON.stringify(name)}`);
    return ref;
  });
}

/**
 * A file named by its digest (`blobs/sha256/<hex>`, or a docker-save config `<hex>.json`) must hash to that
 * name: content that lies about its identity is refused rather than stored under the wrong ID.
 */
export function checkNamedDigest(name: string, actual: Digest, what: string): void {
  const m = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(name) ?? /^([a-f0-9]{64})\.json$/.exec(name);
  if (m && `sha256:${m[1]}` !== actual) throw invalid(`invalid image archive: ${what} ${quote(name)} does not match its digest (content is ${actual})`);
}

export function parseJson(bytes: Buffer, name: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid image archive: ${name} is not valid JSON: ${(err as Error).message}`, err);
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Go's name for this machine's architecture, as image configs and OCI platforms spell it. */
export function hostArch(): string {
  const arch = os.arch();
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}
